using System.Globalization;
using ScottPlot;
using SkiaSharp;

namespace Loom.Explain;

/// <summary>
/// The pictures of Loom.Explain as PNG files: attribution heat maps over images, coloured token strips, bar charts of
/// feature importance, projection scatter plots and attention maps. Pixel pictures are drawn with SkiaSharp (one
/// tile per sample at an exact size); charts with ScottPlot, as the run reports draw theirs.
/// </summary>
public static class ExplainPlots
{
    /// <summary>
    /// A grid of images [N, C, H, W] (or [N, H, W]), each in grey with its attribution over it: red where the
    /// attribution is positive, blue where negative, more opaque the larger it is (relative to the 99th percentile of
    /// |attribution| over all tiles, so one extreme pixel does not wash the rest out). Tiles are H·scale × W·scale
    /// pixels with a <paramref name="gap"/>; the file is columns × rows tiles.
    /// </summary>
    /// <param name="captions">Optional text per tile (true and predicted class), drawn in its top-left corner.</param>
    public static (int Width, int Height) HeatmapOverlays(Tensor images, Tensor attributions, string path, int columns = 8, int scale = 4, int gap = 2, IReadOnlyList<string>? captions = null)
    {
        var (n, h, w) = ImageSize(images);
        if (attributions.Shape.Numel != images.Shape.Numel || attributions.Shape[0] != n)
            throw new ArgumentException($"attributions {attributions.Shape} do not match images {images.Shape}");
        int channels = images.Numel / (n * h * w);
        // Channels averaged: a grey picture for the image, one signed value per pixel for the attribution.
        var pixels = images.Detach().To(DType.Float64).Reshape(n, channels, h * w).Mean(1).ToArray<double>();
        var heat = attributions.Detach().To(DType.Float64).Reshape(n, channels, h * w).Sum(1).ToArray<double>();
        double lo = pixels.Min(), hi = pixels.Max();
        double limit = Percentile(heat.Select(Math.Abs).ToArray(), 0.99);
        columns = Math.Min(columns, n);
        int rows = (n + columns - 1) / columns;
        int width = columns * (w * scale + gap) - gap, height = rows * (h * scale + gap) - gap;
        using var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var paint = new SKPaint { IsAntialias = false };
        for (int i = 0; i < n; i++)
        {
            int left = i % columns * (w * scale + gap), top = i / columns * (h * scale + gap);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int k = i * h * w + y * w + x;
                    byte grey = (byte)Math.Round(255 * (hi > lo ? (pixels[k] - lo) / (hi - lo) : 0));
                    double strength = limit > 0 ? Math.Min(1, Math.Abs(heat[k]) / limit) : 0;
                    var colour = heat[k] >= 0 ? (R: 220.0, G: 20.0, B: 20.0) : (R: 20.0, G: 60.0, B: 220.0);
                    double alpha = 0.85 * strength;
                    paint.Color = new SKColor(Blend(grey, colour.R, alpha), Blend(grey, colour.G, alpha), Blend(grey, colour.B, alpha));
                    canvas.DrawRect(left + x * scale, top + y * scale, scale, scale, paint);
                }
            if (captions is not null && i < captions.Count)
            {
                using var font = new SKFont(SKTypeface.Default, Math.Max(9, scale * 3));
                using var text = new SKPaint { Color = SKColors.Yellow, IsAntialias = true };
                canvas.DrawText(captions[i], left + 2, top + font.Size, font, text);
            }
        }
        Save(bitmap, path);
        return (width, height);
    }

    /// <summary>
    /// Tokens in reading order on coloured backgrounds (red for positive attribution, blue for negative, stronger for
    /// larger), wrapped to <paramref name="width"/> pixels: which words pushed the prediction which way.
    /// </summary>
    public static (int Width, int Height) TokenStrip(IReadOnlyList<string> tokens, IReadOnlyList<double> scores, string path, int width = 900, string? title = null)
    {
        if (tokens.Count != scores.Count) throw new ArgumentException($"{tokens.Count} tokens but {scores.Count} scores");
        using var font = new SKFont(SKTypeface.Default, 18);
        const int pad = 4, lineHeight = 30, margin = 10;
        double limit = scores.Count == 0 ? 0 : scores.Max(Math.Abs);
        // Lay the words out first, to know the height.
        var placed = new List<(string Text, float X, int Line, float Width)>();
        float cursor = margin;
        int line = title is null ? 0 : 1;
        foreach (var token in tokens)
        {
            float tokenWidth = font.MeasureText(token) + 2 * pad;
            if (cursor + tokenWidth > width - margin && cursor > margin)
            {
                line++;
                cursor = margin;
            }
            placed.Add((token, cursor, line, tokenWidth));
            cursor += tokenWidth + 3;
        }
        int height = (line + 1) * lineHeight + 2 * margin;
        using var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        if (title is not null) canvas.DrawText(title, margin, margin + 20, font, ink);
        using var box = new SKPaint();
        for (int i = 0; i < placed.Count; i++)
        {
            var (text, x, row, tokenWidth) = placed[i];
            double strength = limit > 0 ? Math.Abs(scores[i]) / limit : 0;
            byte fade = (byte)Math.Round(255 * (1 - 0.8 * strength));
            box.Color = scores[i] >= 0 ? new SKColor(255, fade, fade) : new SKColor(fade, fade, 255);
            float top = margin + row * lineHeight;
            canvas.DrawRect(x, top + 2, tokenWidth, lineHeight - 4, box);
            canvas.DrawText(text, x + pad, top + lineHeight - 9, font, ink);
        }
        Save(bitmap, path);
        return (width, height);
    }

    /// <summary>Horizontal bars of <paramref name="values"/> (largest on top) with ± <paramref name="errors"/>, at most <paramref name="top"/> of them.</summary>
    public static void Bars(IReadOnlyList<string> names, IReadOnlyList<double> values, IReadOnlyList<double>? errors, string path, string title, string axis, int top = 20, int width = 900, int height = 0)
    {
        var order = Enumerable.Range(0, values.Count).OrderByDescending(i => values[i]).Take(top).Reverse().ToArray();
        var plot = new Plot();
        var positions = Enumerable.Range(0, order.Length).Select(i => (double)i).ToArray();
        var bars = plot.Add.Bars(positions, order.Select(i => values[i]).ToArray());
        bars.Horizontal = true;
        if (errors is not null)
        {
            var error = plot.Add.ErrorBar(order.Select(i => values[i]).ToArray(), positions, order.Select(i => errors[i]).ToArray());
            error.Color = Colors.Black;
            // The error bars run along x for horizontal bars.
            error.XErrorPositive = error.YErrorPositive;
            error.XErrorNegative = error.YErrorNegative;
            error.YErrorPositive = null;
            error.YErrorNegative = null;
        }
        plot.Axes.Left.SetTicks(positions, order.Select(i => names[i]).ToArray());
        plot.Axes.Left.MinimumSize = 10 + 7 * order.Select(i => names[i].Length).DefaultIfEmpty(1).Max();
        plot.Title(title);
        plot.XLabel(axis);
        plot.SavePng(path, width, height > 0 ? height : 120 + 28 * order.Length);
    }

    /// <summary>Points coloured by class with a legend: a 2-D projection of a layer's activations.</summary>
    public static void Scatter(Tensor points, IReadOnlyList<long> classes, IReadOnlyList<string>? classNames, string path, string title, int size = 700)
    {
        if (points.Rank != 2 || points.Shape[1] < 2) throw new ArgumentException($"a scatter plot takes [N, 2] points, got {points.Shape}");
        var xy = points.Detach().To(DType.Float64).Contiguous().ToArray<double>();
        int dims = points.Shape[1];
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        foreach (var group in Enumerable.Range(0, classes.Count).GroupBy(i => classes[i]).OrderBy(g => g.Key))
        {
            var xs = group.Select(i => xy[i * dims]).ToArray();
            var ys = group.Select(i => xy[i * dims + 1]).ToArray();
            var scatter = plot.Add.Scatter(xs, ys);
            scatter.LineWidth = 0;
            scatter.MarkerSize = 4;
            scatter.Color = palette.GetColor((int)group.Key);
            scatter.LegendText = classNames is not null && group.Key >= 0 && group.Key < classNames.Count ? classNames[(int)group.Key] : group.Key.ToString(CultureInfo.InvariantCulture);
        }
        plot.ShowLegend(Edge.Right);
        plot.Title(title);
        plot.SavePng(path, size + 150, size);
    }

    /// <summary>An attention matrix [queries, keys] as a heat map with the tokens on both axes.</summary>
    public static void AttentionMap(double[,] weights, IReadOnlyList<string> tokens, string path, string title, int size = 700) =>
        AttentionPlot(weights, tokens, title).SavePng(path, size, size);

    /// <summary>
    /// One layer's attention, one panel per head (<paramref name="heads"/>: [queries, keys] each), <paramref name="columns"/>
    /// panels a row, tokens on both axes of every panel and one colour scale from 0 to 1 for all, so heads compare.
    /// </summary>
    public static (int Width, int Height) AttentionHeads(IReadOnlyList<double[,]> heads, IReadOnlyList<string> tokens, string path, string title, int columns = 4, int size = 420)
    {
        if (heads.Count == 0) throw new ArgumentException("no attention heads to draw");
        columns = Math.Min(columns, heads.Count);
        int rows = (heads.Count + columns - 1) / columns;
        const int header = 36;
        int width = columns * size, height = header + rows * size;
        using var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using (var font = new SKFont(SKTypeface.Default, 20))
        using (var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true })
            canvas.DrawText(title, 10, 26, font, ink);
        // Each panel renders into a bitmap of its own: ScottPlot clears the whole canvas it is given before drawing, so
        // panels rendered straight onto the shared canvas would wipe the title and every earlier panel.
        using var panel = new SKBitmap(size, size);
        using var panelCanvas = new SKCanvas(panel);
        for (int h = 0; h < heads.Count; h++)
        {
            AttentionPlot(heads[h], tokens, $"head {h}").Render(panelCanvas, size, size);
            panelCanvas.Flush();
            canvas.DrawBitmap(panel, h % columns * size, header + h / columns * size);
        }
        Save(bitmap, path);
        return (width, height);
    }

    private static Plot AttentionPlot(double[,] weights, IReadOnlyList<string> tokens, string title)
    {
        var plot = new Plot();
        var map = plot.Add.Heatmap(weights);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        // Probabilities: a fixed 0–1 scale, or every panel would stretch its own maximum to yellow.
        map.ManualRange = new ScottPlot.Range(0, 1);
        int n = weights.GetLength(0), m = weights.GetLength(1);
        if (tokens.Count == Math.Max(n, m))
        {
            // Heatmap row 0 is drawn at the top: query i sits at y = n − 1 − i.
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, m).Select(i => (double)i).ToArray(), tokens.Take(m).ToArray());
            plot.Axes.Left.SetTicks(Enumerable.Range(0, n).Select(i => (double)(n - 1 - i)).ToArray(), tokens.Take(n).ToArray());
            plot.Axes.Bottom.TickLabelStyle.Rotation = -60;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.UpperRight;
            plot.Axes.Bottom.MinimumSize = 20 + 7 * tokens.Max(t => t.Length);
        }
        plot.XLabel("key");
        plot.YLabel("query");
        plot.Title(title);
        return plot;
    }

    private static (int N, int H, int W) ImageSize(Tensor images) => images.Rank switch
    {
        3 => (images.Shape[0], images.Shape[1], images.Shape[2]),
        4 => (images.Shape[0], images.Shape[2], images.Shape[3]),
        _ => throw new ArgumentException($"heat maps take images [N, C, H, W] or [N, H, W], got {images.Shape}"),
    };

    private static byte Blend(byte grey, double colour, double alpha) => (byte)Math.Round(grey * (1 - alpha) + colour * alpha);

    internal static double Percentile(double[] values, double q)
    {
        if (values.Length == 0) return 0;
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * (sorted.Length - 1)))];
    }

    private static void Save(SKBitmap bitmap, string path)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
