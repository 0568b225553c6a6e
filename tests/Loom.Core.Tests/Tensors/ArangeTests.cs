namespace Loom.Tests.Tensors;

public class ArangeTests
{
    [Fact]
    public void Integer_bounds_give_int64_like_torch()
    {
        var x = Tensor.Arange(0, 5);
        Assert.Equal(DType.Int64, x.DType);
        Assert.Equal([0L, 1, 2, 3, 4], x.ToArray<long>());
        Assert.Equal([7L, 5, 3, 1, -1], Tensor.Arange(7, -3, -2).ToArray<long>());
        Assert.Equal(0, Tensor.Arange(3, 3).Numel);
        Assert.Equal(0, Tensor.Arange(5, 0).Numel); // not Arange(5, dtype: 0): C# converts a constant 0 to any enum
    }

    [Fact]
    public void Fractional_bounds_or_an_explicit_dtype_give_floats()
    {
        Assert.Equal(DType.Float32, Tensor.Arange(0, 2.5).DType);
        Assert.Equal([0f, 0.5f, 1f, 1.5f], Tensor.Arange(0, 2, 0.5).ToArray<float>());
        var d = Tensor.Arange(1, 4, 1, DType.Float64);
        Assert.Equal(DType.Float64, d.DType);
        Assert.Equal([1.0, 2, 3], d.ToArray<double>());
    }

    [Fact]
    public void Bounds_near_the_limits_of_long_stay_exact()
    {
        // Counting in long (or converting through double) would overflow or round these away.
        Assert.Equal([long.MaxValue - 2, long.MaxValue - 1], Tensor.Arange(long.MaxValue - 2, long.MaxValue).ToArray<long>());
        Assert.Equal([long.MinValue + 2, long.MinValue + 1], Tensor.Arange(long.MinValue + 2, long.MinValue, -1).ToArray<long>());
        Assert.Throws<ArgumentException>(() => Tensor.Arange(0, 5, 0));
    }
}
