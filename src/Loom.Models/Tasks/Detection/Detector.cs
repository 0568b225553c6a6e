using Loom.Memory;
using SkiaSharp;

namespace Loom.Models;

/// <summary>
/// A trained detection run ready for pictures (`loom detect RUN IMAGE -o out.png`): the detector and its class names,
/// read from the run folder without composing any scenes.
/// </summary>
public sealed class Detector
{
    private readonly Module<Tensor, Tensor> _model;

    public Detector(Module<Tensor, Tensor> model, IReadOnlyList<string> classes)
    {
        (_model, Classes) = (model, classes);
        _model.Eval();
    }

    public IReadOnlyList<string> Classes { get; }

    /// <summary>The detector of the run in <paramref name="folder"/> (its best weights when <paramref name="best"/>).</summary>
    public static Detector Load(RunFolder folder, bool best = false)
    {
        var config = TrainedWeights.ReadConfig(folder, DetectionTask.TaskName, "detect");
        var classes = DetectionData.Source(config.Data).Classes;
        var model = DetectionTask.CreateModel(classes.Count, config.Model);
        TrainedWeights.Load(model, folder, best);
        return new Detector(model, classes);
    }

    /// <summary>
    /// The objects in a grey picture [H, W] with values in [0, 1], bright on dark as the training scenes are, at its
    /// own scale (objects of about 14–40 pixels are what the detector learnt): detections scoring at least
    /// <paramref name="minScore"/>, best first, boxes in the picture's pixels.
    /// </summary>
    public IReadOnlyList<Detection> Detect(float[] pixels, int height, int width, double minScore = 0.3)
    {
        if (pixels.Length != height * width) throw new ArgumentException($"Detector: {pixels.Length} pixels for a {height}×{width} picture");
        if (!(minScore > 0 && minScore < 1)) throw new ArgumentException($"--threshold must be in (0, 1), got {minScore}");
        // The network is fully convolutional but decodes square maps: pad right and bottom with background, to a
        // multiple of 8 (the wide detector's coarse level; the small one needs 4).
        int side = (Math.Max(height, width) + 7) / 8 * 8;
        var padded = new float[side * side];
        for (int y = 0; y < height; y++) pixels.AsSpan(y * width, width).CopyTo(padded.AsSpan(y * side));
        using var noGrad = new NoGrad();
        using var scope = new MemoryScope();
        var output = _model.Forward(Tensor.FromArray(padded, 1, 1, side, side));
        return CenterNet.Decode(output, minScore, height: height, width: width)[0];
    }

    /// <summary>
    /// Reads an image file (PNG, JPEG…) as grey and detects its objects; a picture that is mostly light (dark objects
    /// on white paper) is inverted first, since the detector learnt bright ink on a dark ground.
    /// </summary>
    public (IReadOnlyList<Detection> Objects, bool Inverted) Detect(string imagePath, double minScore = 0.3)
    {
        var image = ImageReader.Read(imagePath, channels: 1);
        int h = image.Shape[1], w = image.Shape[2];
        var pixels = image.ToArray<float>();
        bool invert = pixels.Average() > 0.5;
        if (invert) for (int i = 0; i < pixels.Length; i++) pixels[i] = 1 - pixels[i];
        return (Detect(pixels, h, w, minScore), invert);
    }

    /// <summary>
    /// Draws <paramref name="objects"/> on the picture at <paramref name="imagePath"/> and writes a PNG: a coloured box
    /// per object with its class and score. Small pictures are enlarged (nearest neighbour, to a side of about 512)
    /// so the labels can be read.
    /// </summary>
    public void Draw(string imagePath, IReadOnlyList<Detection> objects, string outputPath) => Draw(imagePath, objects, Classes, outputPath);

    /// <summary>Draws <paramref name="objects"/>, labelled with <paramref name="classes"/>, on a picture and writes a PNG (as the instance method).</summary>
    public static void Draw(string imagePath, IReadOnlyList<Detection> objects, IReadOnlyList<string> classes, string outputPath)
    {
        var picture = ImageReader.Read(imagePath);
        int h = picture.Shape[1], w = picture.Shape[2];
        int scale = Math.Max(1, 512 / Math.Max(h, w));
        var rgb = picture.ToArray<float>();
        using var bitmap = new SKBitmap(w * scale, h * scale, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < h * scale; y++)
            for (int x = 0; x < w * scale; x++)
            {
                int p = y / scale * w + x / scale;
                bitmap.SetPixel(x, y, new SKColor(Byte(rgb[p]), Byte(rgb[h * w + p]), Byte(rgb[2 * h * w + p])));
            }
        using (var canvas = new SKCanvas(bitmap))
        {
            using var font = new SKFont(SKTypeface.Default, 14);
            // Best last, so that where labels overlap the best one is on top.
            foreach (var o in objects.OrderBy(d => d.Score))
            {
                var colour = Palette[o.Class % Palette.Length];
                using var stroke = new SKPaint { Color = colour, Style = SKPaintStyle.Stroke, StrokeWidth = 2, IsAntialias = true };
                using var fill = new SKPaint { Color = colour, Style = SKPaintStyle.Fill };
                using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
                var rect = new SKRect((float)o.Box.X1 * scale, (float)o.Box.Y1 * scale, (float)o.Box.X2 * scale, (float)o.Box.Y2 * scale);
                canvas.DrawRect(rect, stroke);
                string label = $"{classes[o.Class]} {o.Score:0.00}";
                float textWidth = font.MeasureText(label);
                // The label sits above the box, or inside it when the box touches the top.
                float top = rect.Top >= 18 ? rect.Top - 18 : rect.Top;
                canvas.DrawRect(new SKRect(rect.Left, top, rect.Left + textWidth + 6, top + 18), fill);
                canvas.DrawText(label, rect.Left + 3, top + 14, font, ink);
            }
        }
        SavePng(bitmap, outputPath);
    }

    /// <summary>Writes a grey picture [H, W] in [0, 1] as a PNG (a composed scene, for `loom detect` to read back).</summary>
    public static void WriteGrey(float[] pixels, int height, int width, string path)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                byte v = Byte(pixels[y * width + x]);
                bitmap.SetPixel(x, y, new SKColor(v, v, v));
            }
        SavePng(bitmap, path);
    }

    private static void SavePng(SKBitmap bitmap, string path)
    {
        using var encoded = bitmap.Encode(SKEncodedImageFormat.Png, 100) ?? throw new IOException($"{path}: could not encode the picture as PNG");
        using var file = File.Create(path);
        encoded.SaveTo(file);
    }

    private static byte Byte(float v) => (byte)Math.Clamp(MathF.Round(v * 255), 0, 255);

    // Tableau's ten colours: distinct on dark scenes and light photos alike.
    private static readonly SKColor[] Palette =
    [
        new(0x4E, 0x79, 0xA7), new(0xF2, 0x8E, 0x2B), new(0xE1, 0x57, 0x59), new(0x76, 0xB7, 0xB2), new(0x59, 0xA1, 0x4F),
        new(0xED, 0xC9, 0x48), new(0xB0, 0x7A, 0xA1), new(0xFF, 0x9D, 0xA7), new(0x9C, 0x75, 0x5F), new(0xBA, 0xB0, 0xAC),
    ];
}
