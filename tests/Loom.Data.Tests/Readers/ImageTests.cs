using SkiaSharp;

namespace Loom.Data.Tests.Readers;

public class ImageTests
{
    /// <summary>Writes a w×h image whose pixel (x, y) has colour <paramref name="colour"/>(x, y).</summary>
    private static void WriteImage(string path, int w, int h, Func<int, int, SKColor> colour, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) bitmap.SetPixel(x, y, colour(x, y));
        using var data = bitmap.Encode(format, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [Fact]
    public void Png_decodes_to_channels_first_floats_in_zero_to_one()
    {
        using var dir = new TempDir();
        WriteImage(dir.File("a.png"), 3, 2, (x, y) => new SKColor((byte)(x * 100), (byte)(y * 255), 51));
        var rgb = ImageReader.Read(dir.File("a.png"));
        Assert.Equal(new Shape(3, 2, 3), rgb.Shape);
        Assert.Equal(DType.Float32, rgb.DType);
        Assert.Equal(200 / 255f, (float)rgb.GetDouble(0, 1, 2), 6);  // R at x = 2
        Assert.Equal(1f, (float)rgb.GetDouble(1, 1, 0), 6);          // G at y = 1
        Assert.Equal(0.2f, (float)rgb.GetDouble(2, 0, 0), 6);        // B everywhere
        var grey = ImageReader.Read(dir.File("a.png"), channels: 1);
        Assert.Equal(new Shape(1, 2, 3), grey.Shape);
        Assert.Equal((0.299 * 200 + 0.587 * 255 + 0.114 * 51) / 255, grey.GetDouble(0, 1, 2), 5);
    }

    [Fact]
    public void Images_resize_to_the_requested_size()
    {
        using var dir = new TempDir();
        WriteImage(dir.File("big.jpg"), 64, 48, (x, y) => x < 32 ? SKColors.White : SKColors.Black, SKEncodedImageFormat.Jpeg);
        var t = ImageReader.Read(dir.File("big.jpg"), (12, 16), channels: 1);
        Assert.Equal(new Shape(1, 12, 16), t.Shape);
        Assert.InRange(t.GetDouble(0, 6, 2), 0.9, 1.0);  // left half stays white
        Assert.InRange(t.GetDouble(0, 6, 13), 0.0, 0.1); // right half stays black
    }

    [Fact]
    public void Corrupt_and_truncated_images_are_rejected_naming_the_file()
    {
        using var dir = new TempDir();
        WriteImage(dir.File("ok.png"), 32, 32, (x, y) => new SKColor((byte)(x * 7), (byte)(y * 5), (byte)(x ^ y)));
        var bytes = File.ReadAllBytes(dir.File("ok.png"));
        File.WriteAllBytes(dir.File("truncated.png"), bytes[..(bytes.Length / 2)]);
        TensorAssert.Throws<InvalidDataException>(() => ImageReader.Read(dir.File("truncated.png")), "truncated.png");
        var garbled = bytes.ToArray();
        for (int i = 40; i < garbled.Length - 20; i++) garbled[i] ^= 0x5A;
        File.WriteAllBytes(dir.File("garbled.png"), garbled);
        TensorAssert.Throws<InvalidDataException>(() => ImageReader.Read(dir.File("garbled.png")), "garbled.png");
        File.WriteAllText(dir.File("text.png"), "this is not an image");
        TensorAssert.Throws<InvalidDataException>(() => ImageReader.Read(dir.File("text.png")), "text.png", "not a decodable image");
        File.WriteAllBytes(dir.File("empty.png"), []);
        TensorAssert.Throws<InvalidDataException>(() => ImageReader.Read(dir.File("empty.png")), "empty.png", "empty");
    }

    [Fact]
    public void ImageFolder_labels_by_sub_folder_and_batches_through_the_loader()
    {
        using var dir = new TempDir();
        foreach (var (cls, shade) in new[] { ("cat", 0), ("dog", 255) })
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, cls));
            for (int i = 0; i < 3; i++)
                WriteImage(Path.Combine(dir.Path, cls, $"{i}.png"), 10 + i, 8, (x, y) => new SKColor((byte)shade, (byte)shade, (byte)shade));
        }
        File.WriteAllText(Path.Combine(dir.Path, "dog", "notes.txt"), "ignored");
        var folder = new ImageFolder(dir.Path, (4, 4), channels: 1);
        Assert.Equal(new[] { "cat", "dog" }, folder.Classes);
        Assert.Equal(6, folder.Count);
        Assert.Equal(new[] { 0, 0, 0, 1, 1, 1 }, folder.Labels());
        var batches = new DataLoader<Sample>(folder, batchSize: 4, shuffle: true, seed: 1).ToList();
        Assert.Equal(new Shape(4, 1, 4, 4), batches[0].Inputs.Shape);
        Assert.Equal(new Shape(4), batches[0].Targets.Shape);
        foreach (var b in batches)
        {
            var labels = b.Targets.ToArray<long>();
            for (int r = 0; r < labels.Length; r++) Assert.Equal(labels[r], b.Inputs.Select(0, r).ToArray<float>().Average(), 3);
        }
    }

    [Fact]
    public void ImageFolder_reports_a_corrupt_image_with_its_path_through_the_loader()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "a"));
        WriteImage(Path.Combine(dir.Path, "a", "good.png"), 4, 4, (x, y) => SKColors.Red);
        File.WriteAllBytes(Path.Combine(dir.Path, "a", "bad.png"), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]);
        var loader = new DataLoader<Sample>(new ImageFolder(dir.Path, (4, 4)), batchSize: 2, prefetch: 1);
        TensorAssert.Throws<InvalidDataException>(() => loader.ToList(), "bad.png");
        Assert.Equal(0, loader.RunningWorkers);
        TensorAssert.Throws<DirectoryNotFoundException>(() => new ImageFolder(dir.File("nope"), (4, 4)), "nope");
        TensorAssert.Throws<InvalidDataException>(() => new ImageFolder(Path.Combine(dir.Path, "a"), (4, 4)), "no images");
    }
}
