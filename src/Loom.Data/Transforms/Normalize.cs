using System.Numerics;
using System.Numerics.Tensors;

namespace Loom.Data;

/// <summary>
/// Per-channel normalisation of images, as torchvision's <c>Normalize</c>: y[c] = (x[c] − mean[c]) / std[c]. One
/// value for mean and std applies to every channel.
/// </summary>
public sealed class Normalize : ImageTransform
{
    private readonly double[] _mean, _std;

    public Normalize(double[] mean, double[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Normalize: mean has {mean.Length} values and std {std.Length}; give one per channel, at least one");
        foreach (var s in std)
            if (!(s > 0) || double.IsInfinity(s)) throw new ArgumentException($"Normalize: std must be positive and finite, got {s}");
        _mean = mean.ToArray();
        _std = std.ToArray();
    }

    public Normalize(double mean, double std) : this([mean], [std]) { }

    public IReadOnlyList<double> Mean => _mean;

    public IReadOnlyList<double> Std => _std;

    protected override string Name => "Normalize";

    protected override void TransformImage<T>(ReadOnlySpan<T> source, Span<T> destination, int channels, int height, int width)
    {
        if (_mean.Length != 1 && _mean.Length != channels)
            throw new ArgumentException($"Normalize: {_mean.Length} means and stds for images of {channels} channels");
        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            int k = _mean.Length == 1 ? 0 : c;
            // (x − m)/s = x·(1/s) + (−m/s): a multiply by a precomputed reciprocal instead of a divide.
            T scale = T.CreateChecked(1 / _std[k]), shift = T.CreateChecked(-_mean[k] / _std[k]);
            var dst = destination.Slice(c * plane, plane);
            TensorPrimitives.Multiply(source.Slice(c * plane, plane), scale, dst);
            TensorPrimitives.Add(dst, shift, dst);
        }
    }
}
