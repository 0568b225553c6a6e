using SkiaSharp;

namespace Loom.Explain.Tests;

public sealed class ExplainPlotsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("loom-explain-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static (int Width, int Height) PngSize(string path)
    {
        using var codec = SKCodec.Create(path) ?? throw new InvalidDataException($"{path} is not an image");
        Assert.Equal(SKEncodedImageFormat.Png, codec.EncodedFormat);
        return (codec.Info.Width, codec.Info.Height);
    }

    [Fact]
    public void Heatmap_overlays_are_a_grid_of_scaled_tiles_coloured_by_sign()
    {
        var images = TestTensors.Uniform(1, 0, 1, DType.Float32, 10, 1, 6, 5);
        var attributions = Tensor.Zeros(10, 1, 6, 5);
        attributions.Narrow(0, 0, 1).FillInPlace(-1); // the first tile all negative: blue
        attributions.Narrow(0, 1, 1).FillInPlace(1); // the second all positive: red
        var path = Path.Combine(_folder, "overlay.png");
        var size = ExplainPlots.HeatmapOverlays(images, attributions, path, columns: 4, scale: 3, gap: 2);
        // 4 columns × 3 rows of 15×18-pixel tiles with 2-pixel gaps.
        Assert.Equal((4 * 15 + 3 * 2, 3 * 18 + 2 * 2), size);
        Assert.Equal(size, PngSize(path));
        using var bitmap = SKBitmap.Decode(path);
        var blue = bitmap.GetPixel(1, 1);
        var red = bitmap.GetPixel(17 + 1, 1);
        Assert.True(blue.Blue > blue.Red + 50, $"negative attribution drawn as {blue}");
        Assert.True(red.Red > red.Blue + 50, $"positive attribution drawn as {red}");
    }

    [Fact]
    public void Charts_and_strips_are_written_at_the_asked_size()
    {
        var bars = Path.Combine(_folder, "bars.png");
        ExplainPlots.Bars(["a", "bb", "ccc"], [0.3, 0.1, 0.2], [0.01, 0.02, 0.03], bars, "importance", "drop", width: 640, height: 300);
        Assert.Equal((640, 300), PngSize(bars));
        var scatter = Path.Combine(_folder, "scatter.png");
        ExplainPlots.Scatter(TestTensors.Randn(2, DType.Float64, 30, 2), Enumerable.Range(0, 30).Select(i => (long)(i % 3)).ToList(), ["x", "y", "z"], scatter, "pca", size: 400);
        Assert.Equal((550, 400), PngSize(scatter));
        var strip = Path.Combine(_folder, "strip.png");
        var (w, h) = ExplainPlots.TokenStrip(["a", "very", "good", "film"], [0.1, -0.2, 0.9, 0], strip, width: 500);
        Assert.Equal((500, h), PngSize(strip));
        Assert.Equal(50, h); // one line of 30 pixels and two margins of 10
        var attention = Path.Combine(_folder, "attention.png");
        ExplainPlots.AttentionMap(new double[,] { { 0.9, 0.1 }, { 0.4, 0.6 } }, ["hello", "world"], attention, "head 0", size: 300);
        Assert.Equal((300, 300), PngSize(attention));
    }

    [Fact]
    public void Every_head_of_a_layer_is_drawn_in_its_own_panel_under_the_title()
    {
        // Three heads, each attending from every query to one key only: each panel must hold its own heat map. (ScottPlot
        // clears the canvas it renders to, so panels drawn onto one shared canvas left only the last one and no title.)
        var heads = Enumerable.Range(0, 3).Select(h =>
        {
            var w = new double[4, 4];
            for (int q = 0; q < 4; q++) w[q, h] = 1;
            return w;
        }).ToList();
        var path = Path.Combine(_folder, "heads.png");
        var (width, height) = ExplainPlots.AttentionHeads(heads, ["a", "b", "c", "d"], path, "layer 0", columns: 3, size: 200);
        Assert.Equal((3 * 200, 36 + 200), (width, height));
        using var bitmap = SKBitmap.Decode(path);
        Assert.True(DarkPixels(bitmap, 0, 0, width, 36) > 20, "the title is missing");
        for (int h = 0; h < 3; h++)
        {
            // Viridis: the zeros are dark purple (blue above red and green), the ones yellow (red and green above blue).
            int purple = 0, yellow = 0;
            for (int y = 36; y < height; y++)
                for (int x = h * 200; x < (h + 1) * 200; x++)
                {
                    var c = bitmap.GetPixel(x, y);
                    if (c.Blue > 60 && c.Red < 90 && c.Green < 40) purple++;
                    if (c.Red > 180 && c.Green > 180 && c.Blue < 100) yellow++;
                }
            Assert.True(purple > 500 && yellow > 100, $"head {h}'s panel holds no heat map ({purple} purple, {yellow} yellow pixels)");
        }
    }

    private static int DarkPixels(SKBitmap bitmap, int x0, int y0, int x1, int y1)
    {
        int n = 0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
                if (bitmap.GetPixel(x, y) is var c && c.Red < 80 && c.Green < 80 && c.Blue < 80) n++;
        return n;
    }

    [Fact]
    public void The_report_keeps_one_section_per_method_in_a_fixed_order()
    {
        ExplainReport.WriteSection(_folder, "activations", "## Activations\n");
        ExplainReport.WriteSection(_folder, "ig", "## IG first\n");
        var path = ExplainReport.WriteSection(_folder, "ig", "## IG again\n");
        var text = File.ReadAllText(path);
        Assert.DoesNotContain("IG first", text);
        Assert.True(text.IndexOf("## IG again", StringComparison.Ordinal) < text.IndexOf("## Activations", StringComparison.Ordinal));
    }
}
