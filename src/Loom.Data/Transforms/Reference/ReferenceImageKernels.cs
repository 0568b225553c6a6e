namespace Loom.Data.Reference;

/// <summary>Naive scalar twins of <see cref="ImageKernels"/>, kept forever as the test oracle.</summary>
internal static class ReferenceImageKernels
{
    /// <summary>Each output pixel computed from scratch in double: the source point, then the four neighbours one by one.</summary>
    public static void AffineBilinear(double[] source, int channels, int height, int width, double[] m, double fill, double[] destination)
    {
        for (int c = 0; c < channels; c++)
            for (int yo = 0; yo < height; yo++)
                for (int xo = 0; xo < width; xo++)
                {
                    double sx = m[0] * xo + m[1] * yo + m[2];
                    double sy = m[3] * xo + m[4] * yo + m[5];
                    int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                    double ax = sx - x0, ay = sy - y0;
                    double At(int y, int x) => x >= 0 && x < width && y >= 0 && y < height ? source[(c * height + y) * width + x] : fill;
                    destination[(c * height + yo) * width + xo] =
                        (1 - ax) * (1 - ay) * At(y0, x0) + ax * (1 - ay) * At(y0, x0 + 1) +
                        (1 - ax) * ay * At(y0 + 1, x0) + ax * ay * At(y0 + 1, x0 + 1);
                }
    }
}
