using SkiaSharp;

namespace Loom.Data.Tests.Readers;

/// <summary>Image files and folders as users hand them over: bombs, huge sizes, folders already split into train and test.</summary>
public class ImageInputTests
{
    /// <summary>A valid PNG of a few hundred bytes whose header claims <paramref name="width"/>×<paramref name="height"/> RGB pixels.</summary>
    private static byte[] PngClaiming(int width, int height)
    {
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        void Chunk(string type, byte[] data)
        {
            Span<byte> word = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
            png.Write(word);
            byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
            png.Write(typed);
            BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typed));
            png.Write(word);
        }
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bits per sample
        header[9] = 2; // RGB; compression, filter and interlace 0
        Chunk("IHDR", header);
        var pixels = new MemoryStream();
        using (var z = new ZLibStream(pixels, CompressionLevel.Optimal, leaveOpen: true)) z.Write(new byte[4096]); // the first rows, all black
        Chunk("IDAT", pixels.ToArray());
        Chunk("IEND", []);
        return png.ToArray();
    }

    [Fact]
    public void A_small_png_claiming_60000x60000_pixels_is_refused_before_decoding()
    {
        using var dir = new TempDir();
        var bomb = PngClaiming(60000, 60000);
        Assert.InRange(bomb.Length, 1, 1000);
        File.WriteAllBytes(dir.File("bomb.png"), bomb);
        TensorAssert.Throws<InvalidDataException>(() => ImageReader.Read(dir.File("bomb.png"), (28, 28)),
            "bomb.png", "60000×60000", "3,600,000,000 pixels", "limit of 89,478,485", "decompression bomb");
        // The same construction at a modest size decodes: what is refused is the size, not the file.
        File.WriteAllBytes(dir.File("small.png"), PngClaiming(8, 8));
        Assert.Equal(new Shape(3, 8, 8), ImageReader.Read(dir.File("small.png")).Shape);
    }

    [Fact]
    public void A_requested_size_above_the_pixel_limit_is_a_one_line_argument_error()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("small.png"), PngClaiming(8, 8));
        var e = TensorAssert.Throws<ArgumentException>(() => ImageReader.Read(dir.File("small.png"), (50000, 50000)), "50000×50000", "2,500,000,000 pixels", "limit");
        Assert.DoesNotContain('\n', e.Message);
        Directory.CreateDirectory(dir.File("a"));
        TensorAssert.Throws<ArgumentException>(() => new ImageFolder(dir.Path, (50000, 50000)), "ImageFolder", "50000×50000");
        TensorAssert.Throws<ArgumentException>(() => new ImageFolder(dir.Path, (0, 5)), "positive");
    }

    private static void Image(string path, byte shade)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(4, 4, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(new SKColor(shade, shade, shade));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [Fact]
    public void A_folder_split_into_train_and_test_is_read_as_those_splits_with_the_training_classes()
    {
        using var dir = new TempDir();
        foreach (var cls in new[] { "cat", "dog", "fox" })
            for (int i = 0; i < 2; i++) Image(Path.Combine(dir.Path, "train", cls, $"{i}.png"), 10);
        Image(Path.Combine(dir.Path, "test", "fox", "0.png"), 200); // the test split lacks some classes
        Image(Path.Combine(dir.Path, "test", "cat", "0.png"), 100);

        // As class folders this would be a "train vs test" classifier: refused, pointing at the splits.
        TensorAssert.Throws<InvalidDataException>(() => new ImageFolder(dir.Path, (4, 4)), "split into train/ and test/", "FindSplits");
        var splits = ImageFolder.FindSplits(dir.Path, (4, 4), channels: 1)!;
        Assert.Equal(new[] { "cat", "dog", "fox" }, splits.Train.Classes);
        Assert.Equal(6, splits.Train.Count);
        Assert.Null(splits.Validation);
        Assert.Equal(splits.Train.Classes, splits.Test!.Classes);
        Assert.Equal(new[] { 0, 2 }, splits.Test.Labels()); // fox is class 2 of training, not 1 of the test folder's own two
        Assert.Equal(200 / 255f, splits.Test[1].Input.ToArray<float>()[0], 5);

        Image(Path.Combine(dir.Path, "Validation", "dog", "0.png"), 50);
        splits = ImageFolder.FindSplits(dir.Path, (4, 4))!;
        Assert.Equal(new[] { 1 }, splits.Validation!.Labels());

        // A trained model's class list labels every split, the training one included.
        string[] model = ["fox", "dog", "cat", "owl"];
        var byModel = ImageFolder.FindSplits(dir.Path, (4, 4), classes: model)!;
        Assert.Equal(model, byModel.Test!.Classes);
        Assert.Equal(new[] { 0, 0, 1, 1, 2, 2 }, byModel.Train.Labels());
        Assert.All(byModel.Train.Samples.Concat(byModel.Test.Samples), s => Assert.Equal(model[s.Label], Path.GetFileName(Path.GetDirectoryName(s.Path))));

        Image(Path.Combine(dir.Path, "test", "bird", "0.png"), 0);
        TensorAssert.Throws<InvalidDataException>(() => ImageFolder.FindSplits(dir.Path, (4, 4)), "'bird'", "not a class", "cat, dog, fox");
    }

    [Fact]
    public void Ordinary_ambiguous_and_unlabelled_layouts_are_told_apart()
    {
        using var dir = new TempDir();
        Image(Path.Combine(dir.Path, "plain", "cat", "0.png"), 0);
        Image(Path.Combine(dir.Path, "plain", "dog", "0.png"), 0);
        Assert.Null(ImageFolder.FindSplits(Path.Combine(dir.Path, "plain"), (4, 4)));

        // Classes that happen to be called train and test hold images, not class folders.
        Image(Path.Combine(dir.Path, "named", "train", "0.png"), 0);
        Image(Path.Combine(dir.Path, "named", "test", "0.png"), 0);
        Assert.Null(ImageFolder.FindSplits(Path.Combine(dir.Path, "named"), (4, 4)));
        Assert.Equal(new[] { "test", "train" }, new ImageFolder(Path.Combine(dir.Path, "named"), (4, 4)).Classes);

        Image(Path.Combine(dir.Path, "mixed", "train", "cat", "0.png"), 0);
        Image(Path.Combine(dir.Path, "mixed", "test", "cat", "0.png"), 0);
        Image(Path.Combine(dir.Path, "mixed", "extra", "0.png"), 0);
        TensorAssert.Throws<InvalidDataException>(() => ImageFolder.FindSplits(Path.Combine(dir.Path, "mixed"), (4, 4)), "mixes the split folders", "extra/");

        Image(Path.Combine(dir.Path, "unlabelled", "train", "cat", "0.png"), 0);
        Image(Path.Combine(dir.Path, "unlabelled", "test", "0.png"), 0);
        TensorAssert.Throws<InvalidDataException>(() => ImageFolder.FindSplits(Path.Combine(dir.Path, "unlabelled"), (4, 4)), "test", "no class folders");
    }

    [Fact]
    public void Given_classes_label_folders_by_name()
    {
        using var dir = new TempDir();
        Image(Path.Combine(dir.Path, "dog", "0.png"), 0);
        var folder = new ImageFolder(dir.Path, (4, 4), classes: ["cat", "dog"]);
        Assert.Equal(new[] { "cat", "dog" }, folder.Classes);
        Assert.Equal(new[] { 1 }, folder.Labels());
        TensorAssert.Throws<InvalidDataException>(() => new ImageFolder(dir.Path, (4, 4), classes: ["cat", "cow"]), "'dog'", "not a class", "cat, cow");
        TensorAssert.Throws<ArgumentException>(() => new ImageFolder(dir.Path, (4, 4), classes: ["dog", "dog"]), "'dog'", "more than once");
    }
}
