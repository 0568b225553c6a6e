namespace Loom.Models;

/// <summary>Crops and area-average resizing of grey pictures held as row-major float arrays.</summary>
public static class GreyImage
{
    /// <summary>The <paramref name="height"/>×<paramref name="width"/> rectangle at (<paramref name="top"/>, <paramref name="left"/>) of a picture <paramref name="stride"/> pixels wide.</summary>
    public static float[] Crop(float[] pixels, int stride, int top, int left, int height, int width)
    {
        var crop = new float[height * width];
        for (int y = 0; y < height; y++) pixels.AsSpan((top + y) * stride + left, width).CopyTo(crop.AsSpan(y * width));
        return crop;
    }

    /// <summary>
    /// Resizes by area averaging: each output pixel is the mean of the input it covers, fractional pixels weighted
    /// by their share, so shrinking does not alias (bilinear sampling of a picture shrunk 10× would skip most of it).
    /// Enlarging falls back to the covering pixel, which area averaging then equals.
    /// </summary>
    public static float[] Resize(float[] pixels, int height, int width, int newHeight, int newWidth)
    {
        if (pixels.Length != height * width) throw new ArgumentException($"GreyImage.Resize: {pixels.Length} pixels for a {height}×{width} picture");
        if (newHeight < 1 || newWidth < 1) throw new ArgumentException($"GreyImage.Resize: size must be positive, got {newHeight}×{newWidth}");
        var (rows, columns) = (Footprints(height, newHeight), Footprints(width, newWidth));
        var result = new float[newHeight * newWidth];
        for (int oy = 0; oy < newHeight; oy++)
            for (int ox = 0; ox < newWidth; ox++)
            {
                double sum = 0, weights = 0;
                foreach (var (y, wy) in rows[oy])
                    foreach (var (x, wx) in columns[ox])
                    {
                        sum += wy * wx * pixels[y * width + x];
                        weights += wy * wx;
                    }
                result[oy * newWidth + ox] = (float)(sum / weights);
            }
        return result;
    }

    // For each output position along one axis, the input positions it covers and how much of each.
    private static (int Index, double Weight)[][] Footprints(int size, int newSize)
    {
        double scale = (double)size / newSize;
        var result = new (int, double)[newSize][];
        for (int o = 0; o < newSize; o++)
        {
            double start = o * scale, end = Math.Max((o + 1) * scale, start + 1e-9);
            var cover = new List<(int, double)>();
            for (int i = (int)Math.Floor(start); i < Math.Min(size, (int)Math.Ceiling(end)); i++)
                cover.Add((i, Math.Min(end, i + 1) - Math.Max(start, i)));
            result[o] = cover.ToArray();
        }
        return result;
    }
}
