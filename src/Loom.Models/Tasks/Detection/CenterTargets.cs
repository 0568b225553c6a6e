namespace Loom.Models;

/// <summary>
/// What a centre-based detector (CenterNet, Zhou et al. 2019) learns and how its output becomes boxes. The output map has
/// one cell per <see cref="Stride"/>×<see cref="Stride"/> pixels; per class a heatmap that peaks at 1 on the cell of each
/// object's centre (a Gaussian around it, its radius growing with the box), and at that cell the box's width and height
/// in pixels and the centre's sub-cell offset.
/// </summary>
public sealed class CenterTargets
{
    public CenterTargets(int classes, int imageSize, int stride = 4)
    {
        if (classes < 1 || stride < 1 || imageSize < stride || imageSize % stride != 0)
            throw new ArgumentException($"CenterTargets: needs classes ≥ 1 and an image size ({imageSize}) that is a multiple of the stride ({stride})");
        (Classes, ImageSize, Stride) = (classes, imageSize, stride);
    }

    public int Classes { get; }
    public int ImageSize { get; }
    public int Stride { get; }

    /// <summary>Cells per side of the output map.</summary>
    public int Cells => ImageSize / Stride;

    /// <summary>
    /// Targets of one image: <c>Heatmap</c> [Classes, Cells, Cells] (the maximum of the objects' Gaussians),
    /// <c>Size</c> and <c>Offset</c> [2, Cells, Cells] (width, height in pixels; x, y offset in cells, in [0, 1)) set at
    /// object centres, and <c>Mask</c> [Cells, Cells], 1 at object centres. Two objects centred on one cell: the larger
    /// keeps the size and offset (it is the one the heatmap's peak is more likely to be scored for).
    /// </summary>
    public (float[] Heatmap, float[] Size, float[] Offset, float[] Mask) Encode(IReadOnlyList<Detection> objects)
    {
        int n = Cells;
        var heat = new float[Classes * n * n];
        var size = new float[2 * n * n];
        var offset = new float[2 * n * n];
        var mask = new float[n * n];
        var area = new double[n * n];
        foreach (var o in objects)
        {
            if (o.Class < 0 || o.Class >= Classes) throw new ArgumentException($"CenterTargets: class {o.Class} is outside 0..{Classes - 1}");
            if (o.Box.Width <= 0 || o.Box.Height <= 0) continue; // nothing to find
            double cx = (o.Box.X1 + o.Box.X2) / 2 / Stride, cy = (o.Box.Y1 + o.Box.Y2) / 2 / Stride;
            int px = Math.Clamp((int)Math.Floor(cx), 0, n - 1), py = Math.Clamp((int)Math.Floor(cy), 0, n - 1);
            // σ a sixth of the box's diameter in cells (CenterNet's radius rule, simplified), at least a third of a cell.
            double sigma = Math.Max(Math.Sqrt(o.Box.Width * o.Box.Height) / Stride / 6, 1.0 / 3);
            int reach = (int)Math.Ceiling(3 * sigma);
            var plane = heat.AsSpan(o.Class * n * n, n * n);
            for (int y = Math.Max(0, py - reach); y <= Math.Min(n - 1, py + reach); y++)
                for (int x = Math.Max(0, px - reach); x <= Math.Min(n - 1, px + reach); x++)
                {
                    float g = (float)Math.Exp(-((x - px) * (x - px) + (y - py) * (y - py)) / (2 * sigma * sigma));
                    if (g > plane[y * n + x]) plane[y * n + x] = g;
                }
            int cell = py * n + px;
            if (mask[cell] == 1 && area[cell] >= o.Box.Area) continue;
            (mask[cell], area[cell]) = (1, o.Box.Area);
            (size[cell], size[n * n + cell]) = ((float)o.Box.Width, (float)o.Box.Height);
            (offset[cell], offset[n * n + cell]) = ((float)(cx - px), (float)(cy - py));
        }
        return (heat, size, offset, mask);
    }

    /// <summary>
    /// Boxes from one image's output (heatmap scores in [0, 1]): every cell that is the maximum of its 3×3
    /// neighbourhood in its class's heatmap and scores at least <paramref name="minScore"/>, the best
    /// <paramref name="topK"/>, each with the size and offset at its cell. The 3×3 peak test replaces NMS within a
    /// class for well-separated centres; callers still run <see cref="Nms"/> for boxes whose centres are close.
    /// </summary>
    public IReadOnlyList<Detection> Decode(ReadOnlySpan<float> heatmap, ReadOnlySpan<float> size, ReadOnlySpan<float> offset, double minScore = 0.1, int topK = 100)
    {
        int n = Cells;
        if (heatmap.Length != Classes * n * n || size.Length != 2 * n * n || offset.Length != 2 * n * n)
            throw new ArgumentException($"CenterTargets.Decode: expected a heatmap of {Classes}×{n}×{n} and size and offset maps of 2×{n}×{n}");
        var found = new List<Detection>();
        for (int c = 0; c < Classes; c++)
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++)
                {
                    float v = heatmap[(c * n + y) * n + x];
                    if (v < minScore || !IsPeak(heatmap.Slice(c * n * n, n * n), n, x, y, v)) continue;
                    int cell = y * n + x;
                    double cx = (x + offset[cell]) * Stride, cy = (y + offset[n * n + cell]) * Stride;
                    double w = Math.Max(0, size[cell]), h = Math.Max(0, size[n * n + cell]);
                    found.Add(new Detection(new Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), c, v));
                }
        return found.OrderByDescending(d => d.Score).Take(topK).ToList();
    }

    // A plateau keeps its first cell in row-major order only, so two equal neighbours give one detection.
    private static bool IsPeak(ReadOnlySpan<float> plane, int n, int x, int y, float v)
    {
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
            {
                int yy = y + dy, xx = x + dx;
                if ((dx == 0 && dy == 0) || yy < 0 || yy >= n || xx < 0 || xx >= n) continue;
                float u = plane[yy * n + xx];
                if (u > v || (u == v && (dy < 0 || (dy == 0 && dx < 0)))) return false;
            }
        return true;
    }
}
