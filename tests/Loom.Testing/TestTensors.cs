using Loom.Random;

namespace Loom.Testing;

/// <summary>Seeded random tensors for tests, including non-contiguous ones with the same values.</summary>
public static class TestTensors
{
    /// <summary>Odd sizes that exercise every remainder path of vectorised loops.</summary>
    public static readonly int[] OddSizes = [0, 1, 7, 17, 33, 65, 257];

    public static Tensor Randn(int seed, DType dtype, params int[] shape) => Tensor.Randn(new Shape(shape), new Generator((ulong)seed), dtype);

    public static Tensor Uniform(int seed, double low, double high, DType dtype, params int[] shape) =>
        Tensor.Uniform(new Shape(shape), low, high, new Generator((ulong)seed), dtype);

    /// <summary>A float64 leaf that requires grad, for GradCheck.</summary>
    public static Tensor Param(int seed, params int[] shape) => Randn(seed, DType.Float64, shape).RequiresGrad_();

    /// <summary>
    /// A non-contiguous tensor with the same values as <paramref name="t"/>: the values are stored transposed in a
    /// larger buffer and viewed back, so strides are neither row-major nor unit.
    /// </summary>
    public static Tensor NonContiguous(Tensor t)
    {
        if (t.Rank == 0) return t;
        // Store with the last two axes swapped and every element doubled (stride 2), then view back.
        var dims = t.Shape.ToArray();
        var wide = dims.ToArray();
        wide[^1] *= 2;
        var big = Tensor.Zeros(new Shape(wide), t.DType);
        var view = big.Slice(-1, 0, wide[^1], 2);
        view.CopyFrom(t);
        return view;
    }
}
