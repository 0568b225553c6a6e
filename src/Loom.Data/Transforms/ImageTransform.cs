using System.Numerics;

namespace Loom.Data;

/// <summary>
/// Base of transforms on images: float32 or float64 tensors of shape [H, W], [C, H, W] or a batch [N, C, H, W]. A
/// batch is transformed image by image, so random transforms draw fresh parameters for every image.
/// </summary>
public abstract class ImageTransform : ITransform
{
    /// <summary>The op name used in error messages.</summary>
    protected abstract string Name { get; }

    /// <summary>
    /// <paramref name="value"/> if it lies in [<paramref name="low"/>, <paramref name="high"/>] (NaN does not); else the
    /// one-line "transform: parameter must lie in [low, high]" every transform's constructor gives.
    /// </summary>
    private protected static double InRange(string transform, string parameter, double value, double low, double high) =>
        value >= low && value <= high
            ? value
            : throw new ArgumentOutOfRangeException(parameter, value, $"{transform}: {parameter} must lie in [{low}, {high}], got {value}");

    /// <summary>
    /// <paramref name="range"/> if 0 &lt; Min ≤ Max ≤ <paramref name="upper"/> (finite): a range a positive parameter is
    /// drawn from (a scale, an aspect ratio); else the one-line error naming it.
    /// </summary>
    private protected static (double Min, double Max) PositiveRange(string transform, string parameter, (double Min, double Max) range,
        double upper = double.MaxValue) =>
        range.Min > 0 && range.Min <= range.Max && range.Max <= upper
            ? range
            : throw new ArgumentOutOfRangeException(parameter, range,
                $"{transform}: {parameter} ({range.Min}, {range.Max}) must satisfy 0 < min ≤ max{(upper < double.MaxValue ? $" ≤ {upper}" : "")}");

    /// <summary>The size of the output image for an input of <paramref name="height"/>×<paramref name="width"/>.</summary>
    protected virtual (int Height, int Width) OutputSize(int height, int width) => (height, width);

    /// <summary>Transforms one image: <paramref name="source"/> is [C, H, W], <paramref name="destination"/> is [C, H', W'] (see <see cref="OutputSize"/>).</summary>
    protected abstract void TransformImage<T>(ReadOnlySpan<T> source, Span<T> destination, int channels, int height, int width)
        where T : unmanaged, IFloatingPointIeee754<T>;

    public Tensor Apply(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank is < 2 or > 4)
            throw new ArgumentException($"{Name}: expected an image [H, W], [C, H, W] or a batch [N, C, H, W], got shape {input.Shape}");
        if (!input.DType.IsFloatingPoint())
            throw new ArgumentException($"{Name}: images must be float32 or float64, got dtype {input.DType.Name()} (shape {input.Shape}); convert with To(DType.Float32)");
        var dims = input.Shape.ToArray();
        int rank = dims.Length, h = dims[rank - 2], w = dims[rank - 1];
        int c = rank >= 3 ? dims[rank - 3] : 1, n = rank == 4 ? dims[0] : 1;
        var (oh, ow) = OutputSize(h, w);
        dims[rank - 2] = oh;
        dims[rank - 1] = ow;
        var x = input.Detach().Contiguous();
        var output = Tensor.Zeros(new Shape(dims), input.DType);
        if (input.DType == DType.Float32) Run<float>(x, output, n, c, h, w, oh, ow);
        else Run<double>(x, output, n, c, h, w, oh, ow);
        return output;
    }

    private void Run<T>(Tensor x, Tensor output, int n, int c, int h, int w, int oh, int ow) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var src = x.AsReadOnlySpan<T>();
        var dst = output.AsSpan<T>();
        int inSize = c * h * w, outSize = c * oh * ow;
        for (int i = 0; i < n; i++)
            TransformImage(src.Slice(i * inSize, inSize), dst.Slice(i * outSize, outSize), c, h, w);
    }
}
