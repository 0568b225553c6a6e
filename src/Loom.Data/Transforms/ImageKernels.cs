using System.Numerics;
using System.Runtime.CompilerServices;

namespace Loom.Data;

/// <summary>
/// Resampling kernels for image transforms. The naive twins in <c>Reference/</c> are the test oracle.
/// </summary>
internal static class ImageKernels
{
    /// <summary>
    /// Inverse-mapped affine warp with bilinear sampling. Output pixel (x', y') reads the source at
    /// (x, y) = (m0·x' + m1·y' + m2, m3·x' + m4·y' + m5), pixel centres at integer coordinates; samples outside the
    /// image contribute <paramref name="fill"/>. <paramref name="source"/> is [C, H, W], <paramref name="destination"/> [C, H, W].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AffineBilinear<T>(ReadOnlySpan<T> source, int channels, int height, int width, ReadOnlySpan<double> m, T fill, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = height * width;
        for (int yo = 0; yo < height; yo++)
        {
            // Walk the row incrementally: moving one output pixel right moves the source point by (m0, m3).
            double sx = m[1] * yo + m[2], sy = m[4] * yo + m[5];
            for (int xo = 0; xo < width; xo++, sx += m[0], sy += m[3])
            {
                double fx = Math.Floor(sx), fy = Math.Floor(sy);
                int x0 = (int)fx, y0 = (int)fy;
                int o = yo * width + xo;
                // Entirely outside (including the one-pixel rim where all four neighbours are outside).
                if (x0 < -1 || y0 < -1 || x0 >= width || y0 >= height || double.IsNaN(sx) || double.IsNaN(sy))
                {
                    for (int c = 0; c < channels; c++) destination[c * plane + o] = fill;
                    continue;
                }
                T ax = T.CreateTruncating(sx - fx), ay = T.CreateTruncating(sy - fy);
                T w00 = (T.One - ax) * (T.One - ay), w01 = ax * (T.One - ay), w10 = (T.One - ax) * ay, w11 = ax * ay;
                bool in00 = x0 >= 0 && y0 >= 0, in01 = x0 + 1 < width && y0 >= 0;
                bool in10 = x0 >= 0 && y0 + 1 < height, in11 = x0 + 1 < width && y0 + 1 < height;
                int i00 = y0 * width + x0;
                for (int c = 0; c < channels; c++)
                {
                    var p = source.Slice(c * plane);
                    T v00 = in00 ? p[i00] : fill, v01 = in01 ? p[i00 + 1] : fill;
                    T v10 = in10 ? p[i00 + width] : fill, v11 = in11 ? p[i00 + width + 1] : fill;
                    destination[c * plane + o] = w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11;
                }
            }
        }
    }
}
