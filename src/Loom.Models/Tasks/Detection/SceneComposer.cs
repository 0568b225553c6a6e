using Loom.Random;

namespace Loom.Models;

/// <summary>
/// Detection scenes composed from real object images (Fashion-MNIST clothes, MNIST digits): each scene is a dark
/// square canvas with several objects pasted at random positions and scales, some overlapping (brighter ink wins), some
/// cut by the border, each with the exact box of the pixels it drew and its class. No package ships a detection set
/// of useful size (docs/notes/vision.md), so this is how Loom trains and measures its detector.
/// </summary>
/// <remarks>
/// An object's box is the bounding box of its ink (pixels above <see cref="InkThreshold"/>) after scaling that lands on
/// the canvas; an object whose visible ink would span fewer than <see cref="MinVisible"/> pixels on a side is not
/// drawn. An object is placed so that at least <see cref="VisibleShare"/> of its ink box's height and of its width stay
/// on the canvas: with no such floor (0) over half the objects are cut and one in seven shows a strip under 8 px wide,
/// which no one could name (the left edge of a 1, a 4 or a 7), so the scores measured how many slivers a scene held. Occlusion does not shrink a box: an object half hidden by a brighter one keeps its full box, as an annotator
/// would draw it. Scenes are a function of (seed, index), so a data set of scenes is reproducible and needs no storage.
/// </remarks>
public sealed class SceneComposer
{
    public const float InkThreshold = 0.1f;
    public const int MinVisible = 4;

    private readonly float[][] _crops;   // tight crops of the sources' ink, row-major
    private readonly (int H, int W)[] _sizes;
    private readonly int[] _classes;

    /// <param name="images">Source images [N, H, W] (or [N, 1, H, W]) with values in [0, 1], ink bright on dark.</param>
    /// <param name="classes">Class of each source image, 0 ≤ class &lt; <paramref name="classCount"/>.</param>
    /// <param name="size">Side of the square canvas in pixels.</param>
    /// <param name="objects">Fewest and most objects per scene.</param>
    /// <param name="scale">Smallest and largest object height in pixels, before clipping by the border.</param>
    /// <param name="visibleShare">Least share of an object's ink height and width that stays on the canvas, in [0, 1].</param>
    public SceneComposer(Tensor images, long[] classes, int classCount, int size = 96, (int Min, int Max)? objects = null, (int Min, int Max)? scale = null,
        double visibleShare = 0.5)
    {
        if (!(visibleShare >= 0 && visibleShare <= 1)) throw new ArgumentException($"SceneComposer: the visible share must be in [0, 1], got {visibleShare}");
        VisibleShare = visibleShare;
        if (images.Rank == 4 && images.Shape[1] == 1) images = images.Squeeze(1);
        if (images.Rank != 3) throw new ArgumentException($"SceneComposer: source images must be [N, H, W] or [N, 1, H, W], got {images.Shape}");
        if (images.Shape[0] != classes.Length) throw new ArgumentException($"SceneComposer: {images.Shape[0]} images but {classes.Length} classes");
        (Size, ClassCount, Objects, Scale) = (size, classCount, objects ?? (2, 5), scale ?? (14, 40));
        if (Objects.Min < 0 || Objects.Max < Objects.Min) throw new ArgumentException($"SceneComposer: objects per scene ({Objects.Min}, {Objects.Max})");
        if (Scale.Min < MinVisible || Scale.Max < Scale.Min) throw new ArgumentException($"SceneComposer: object heights ({Scale.Min}, {Scale.Max}) must be at least {MinVisible}");
        int n = images.Shape[0], h = images.Shape[1], w = images.Shape[2];
        var pixels = images.To(DType.Float32).Contiguous().ToArray<float>();
        var crops = new List<float[]>();
        var sizes = new List<(int, int)>();
        var kept = new List<int>();
        for (int i = 0; i < n; i++)
        {
            if (classes[i] < 0 || classes[i] >= classCount) throw new ArgumentException($"SceneComposer: image {i} has class {classes[i]}, outside 0..{classCount - 1}");
            var image = pixels.AsSpan(i * h * w, h * w);
            if (InkBox(image, h, w) is not var (top, left, bottom, right)) continue; // a blank image has nothing to find
            var crop = new float[(bottom - top) * (right - left)];
            for (int y = top; y < bottom; y++) image.Slice(y * w + left, right - left).CopyTo(crop.AsSpan((y - top) * (right - left)));
            crops.Add(crop);
            sizes.Add((bottom - top, right - left));
            kept.Add((int)classes[i]);
        }
        if (crops.Count == 0) throw new ArgumentException("SceneComposer: every source image is blank");
        (_crops, _sizes, _classes) = ([.. crops], [.. sizes], [.. kept]);
    }

    public int Size { get; }
    public int ClassCount { get; }
    public (int Min, int Max) Objects { get; }
    public (int Min, int Max) Scale { get; }
    public double VisibleShare { get; }
    public int Sources => _crops.Length;

    /// <summary>Scene <paramref name="index"/> of the sequence <paramref name="seed"/>: the canvas [Size, Size] in [0, 1] and its objects.</summary>
    public (float[] Pixels, IReadOnlyList<Detection> Objects) Compose(ulong seed, long index)
    {
        var g = new Generator(seed * 0x9E3779B97F4A7C15UL + (ulong)index);
        var canvas = new float[Size * Size];
        var placed = new List<Detection>();
        int count = g.NextInt(Objects.Min, Objects.Max + 1);
        for (int k = 0; k < count; k++)
        {
            int source = g.NextInt(0, _crops.Length);
            var (ch, cw) = _sizes[source];
            int height = g.NextInt(Scale.Min, Scale.Max + 1);
            int width = Math.Max(1, (int)Math.Round(height * (double)cw / ch));
            var scaled = Resize(_crops[source], ch, cw, height, width);
            if (InkBox(scaled, height, width) is not var (t, l, b, r)) continue;
            // Anywhere the object keeps enough of its ink box inside: some objects are cut by the border.
            int keepY = Keep(b - t), keepX = Keep(r - l);
            int y0 = g.NextInt(keepY - b, Size - keepY - t + 1);
            int x0 = g.NextInt(keepX - r, Size - keepX - l + 1);
            // The box is that of the ink that lands on the canvas: cut by the border, the visible ink may be narrower
            // than the whole object's box clipped.
            int top = Size, left = Size, bottom = -1, right = -1;
            for (int y = Math.Max(0, y0); y < Math.Min(Size, y0 + height); y++)
                for (int x = Math.Max(0, x0); x < Math.Min(Size, x0 + width); x++)
                    if (scaled[(y - y0) * width + (x - x0)] > InkThreshold)
                        (top, left, bottom, right) = (Math.Min(top, y), Math.Min(left, x), Math.Max(bottom, y), Math.Max(right, x));
            if (bottom - top + 1 < MinVisible || right - left + 1 < MinVisible) continue;
            var box = new Box(left, top, right + 1, bottom + 1);
            for (int y = Math.Max(0, y0); y < Math.Min(Size, y0 + height); y++)
                for (int x = Math.Max(0, x0); x < Math.Min(Size, x0 + width); x++)
                {
                    float v = scaled[(y - y0) * width + (x - x0)];
                    ref float c = ref canvas[y * Size + x];
                    if (v > c) c = v;
                }
            placed.Add(new Detection(box, _classes[source]));
        }
        return (canvas, placed);
    }

    // Pixels of an ink extent that must stay on the canvas; never more than leaves a place to put it (an object larger than the canvas).
    private int Keep(int extent) => Math.Min(Math.Max(MinVisible, (int)Math.Ceiling(VisibleShare * extent)), (Size + extent) / 2);

    /// <summary>Rows [top, bottom) and columns [left, right) holding every pixel above <see cref="InkThreshold"/>, or null if none is.</summary>
    public static (int Top, int Left, int Bottom, int Right)? InkBox(ReadOnlySpan<float> image, int height, int width)
    {
        int top = height, left = width, bottom = -1, right = -1;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                if (image[y * width + x] > InkThreshold)
                {
                    top = Math.Min(top, y);
                    bottom = Math.Max(bottom, y);
                    left = Math.Min(left, x);
                    right = Math.Max(right, x);
                }
        return bottom < 0 ? null : (top, left, bottom + 1, right + 1);
    }

    // Bilinear, sampling at pixel centres (align_corners false), edge pixels repeated.
    private static float[] Resize(float[] src, int h, int w, int oh, int ow)
    {
        var dst = new float[oh * ow];
        for (int y = 0; y < oh; y++)
        {
            double sy = Math.Clamp((y + 0.5) * h / oh - 0.5, 0, h - 1);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, h - 1);
            double fy = sy - y0;
            for (int x = 0; x < ow; x++)
            {
                double sx = Math.Clamp((x + 0.5) * w / ow - 0.5, 0, w - 1);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, w - 1);
                double fx = sx - x0;
                dst[y * ow + x] = (float)((1 - fy) * ((1 - fx) * src[y0 * w + x0] + fx * src[y0 * w + x1]) + fy * ((1 - fx) * src[y1 * w + x0] + fx * src[y1 * w + x1]));
            }
        }
        return dst;
    }
}
