using Loom.Random;

namespace Loom.Tests.Indexing;

/// <summary>Seeded sample tensors of every dtype family for the indexing tests.</summary>
internal static class Samples
{
    public static readonly DType[] AllDTypes = [DType.Float32, DType.Float64, DType.Int32, DType.Int64, DType.UInt8, DType.Int8, DType.Bool];

    /// <summary>For [Theory] over every dtype.</summary>
    public static TheoryData<DType> DTypes => [.. AllDTypes];

    /// <summary>Values of <paramref name="dtype"/>: normal floats, integers spanning negatives (where the type has them), random bools.</summary>
    public static Tensor Of(int seed, DType dtype, params int[] shape) => dtype switch
    {
        DType.Float32 or DType.Float64 => TestTensors.Randn(seed, dtype, shape),
        DType.Bool => Tensor.Randint(0, 2, new Shape(shape), new Generator((ulong)seed), DType.Bool),
        DType.UInt8 => Tensor.Randint(0, 200, new Shape(shape), new Generator((ulong)seed), DType.UInt8),
        DType.Int8 => Tensor.Randint(-100, 100, new Shape(shape), new Generator((ulong)seed), DType.Int8),
        _ => Tensor.Randint(-1000, 1000, new Shape(shape), new Generator((ulong)seed), dtype),
    };

    /// <summary>Random positions in [0, high) of an index dtype.</summary>
    public static Tensor Index(int seed, int high, DType dtype, params int[] shape)
    {
        var s = new Shape(shape);
        return s.Numel == 0 ? Tensor.Zeros(s, dtype) : Tensor.Randint(0, high, s, new Generator((ulong)seed), dtype);
    }

    /// <summary>A random Bool mask with roughly <paramref name="density"/> of its elements true.</summary>
    public static Tensor Mask(int seed, double density, params int[] shape)
    {
        var u = TestTensors.Uniform(seed, 0, 1, DType.Float64, shape).ToArray<double>();
        return Tensor.FromArray(u.Select(v => v < density).ToArray(), shape);
    }

    /// <summary>The same values laid out as a non-contiguous view.</summary>
    public static Tensor Strided(Tensor t) => TestTensors.NonContiguous(t);

    public static double[] Values(Tensor t) => t.ToArray<double>();

    /// <summary>Asserts dtype, shape and exactly equal elements (data movement must not change a bit).</summary>
    public static void Same(double[] expected, int[] expectedShape, DType dtype, Tensor actual)
    {
        Assert.Equal(dtype, actual.DType);
        Assert.Equal(new Shape(expectedShape), actual.Shape);
        Assert.Equal(expected, Values(actual));
    }
}
