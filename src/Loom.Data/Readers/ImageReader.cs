using System.Globalization;
using SkiaSharp;

namespace Loom.Data;

/// <summary>
/// Decodes image files (PNG, JPEG, and the other formats Skia reads: BMP, GIF, WebP) with SkiaSharp into float
/// tensors [C, H, W] with values in 0..1, resized to a fixed size.
/// </summary>
/// <remarks>
/// Grayscale uses the ITU-R 601 luma weights (0.299 R + 0.587 G + 0.114 B), as PIL's <c>convert("L")</c>. Alpha is
/// ignored. Resizing is bilinear with mipmaps, so large downscales average rather than alias. A file Skia cannot
/// decode completely (corrupt, truncated, not an image) is an <see cref="InvalidDataException"/> naming it; a
/// partially decoded picture is never returned. Neither the decoded image nor the requested size may exceed
/// <see cref="MaxPixels"/>: a small file whose header claims a huge picture (a decompression bomb, or corruption) is an
/// error before any pixel memory is allocated.
/// SkiaSharp's native library needs libfontconfig1 and libfreetype6 on Linux (present on Debian 12 by default).
/// </remarks>
public static class ImageReader
{
    /// <summary>
    /// The largest image, in pixels, that is decoded or produced: 89,478,485, Pillow's <c>MAX_IMAGE_PIXELS</c> (a
    /// quarter gigabyte of 24-bit pixels), so a file Pillow refuses as a decompression bomb is refused here too.
    /// </summary>
    public const long MaxPixels = 89_478_485;

    /// <summary>Checks a requested output size; an <see cref="ArgumentException"/> (one line) when it is not positive or above <see cref="MaxPixels"/>.</summary>
    internal static void CheckSize((int Height, int Width) size, string who)
    {
        if (size.Height < 1 || size.Width < 1)
            throw new ArgumentException($"{who}: image size must be positive, got {size.Height}×{size.Width}");
        if ((long)size.Height * size.Width > MaxPixels)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{who}: image size {size.Height}×{size.Width} is {(long)size.Height * size.Width:N0} pixels, above the limit of {MaxPixels:N0}; ask for a smaller size"));
    }

    /// <summary>Reads <paramref name="path"/> as [channels, height, width] float32 in 0..1.</summary>
    /// <param name="size">(height, width) to resize to; null keeps the image's own size.</param>
    /// <param name="channels">1 (grayscale) or 3 (RGB).</param>
    public static Tensor Read(string path, (int Height, int Width)? size = null, int channels = 3)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path, size, channels);
    }

    /// <summary>Reads from a stream; <paramref name="name"/> names the source in error messages.</summary>
    public static Tensor Read(Stream stream, string name, (int Height, int Width)? size = null, int channels = 3)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "ImageReader: channels must be 1 (grayscale) or 3 (RGB)");
        if (size is { } s) CheckSize(s, "ImageReader");
        using var bitmap = Decode(stream, name);
        int h = size?.Height ?? bitmap.Height, w = size?.Width ?? bitmap.Width;
        if (h == bitmap.Height && w == bitmap.Width) return ToTensor(bitmap, channels);
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var resized = bitmap.Resize(info, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
            ?? throw new InvalidDataException($"{name}: could not resize the {bitmap.Width}×{bitmap.Height} image to {w}×{h}");
        return ToTensor(resized, channels);
    }

    private static SKBitmap Decode(Stream stream, string name)
    {
        // SKCodec reads from the managed stream lazily; decode from memory so a failing stream cannot leave it half-read.
        var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        bytes.Position = 0;
        using var data = SKData.Create(bytes);
        if (data is null || data.Size == 0) throw new InvalidDataException($"{name}: empty file, not an image");
        using var codec = SKCodec.Create(data)
            ?? throw new InvalidDataException($"{name}: not a decodable image (unknown format or corrupt header)");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        if (info.Width <= 0 || info.Height <= 0) throw new InvalidDataException($"{name}: image has invalid size {info.Width}×{info.Height}");
        if ((long)info.Width * info.Height > MaxPixels)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{name}: the image claims to be {info.Width}×{info.Height} ({(long)info.Width * info.Height:N0} pixels), above the limit of {MaxPixels:N0}: a decompression bomb or a corrupt header"));
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            // IncompleteInput means a truncated file: Skia would hand back a partly grey picture, which we refuse.
            throw new InvalidDataException($"{name}: the {codec.EncodedFormat} image could not be decoded completely ({result})");
        }
        return bitmap;
    }

    private static Tensor ToTensor(SKBitmap bitmap, int channels)
    {
        int h = bitmap.Height, w = bitmap.Width, plane = h * w;
        var pixels = bitmap.GetPixelSpan(); // RGBA, 4 bytes per pixel, rows packed (RowBytes == 4·W for Rgba8888)
        int rowBytes = bitmap.RowBytes;
        var values = new float[channels * plane];
        const float scale = 1f / 255;
        for (int y = 0; y < h; y++)
        {
            var row = pixels.Slice(y * rowBytes, 4 * w);
            for (int x = 0; x < w; x++)
            {
                byte r = row[4 * x], g = row[4 * x + 1], b = row[4 * x + 2];
                int o = y * w + x;
                if (channels == 1)
                {
                    values[o] = (0.299f * r + 0.587f * g + 0.114f * b) * scale;
                }
                else
                {
                    values[o] = r * scale;
                    values[plane + o] = g * scale;
                    values[2 * plane + o] = b * scale;
                }
            }
        }
        return Tensor.Wrap(values, channels, h, w);
    }
}
