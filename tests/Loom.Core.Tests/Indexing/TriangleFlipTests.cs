namespace Loom.Tests.Indexing;

public class TriangleFlipTests
{
    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void Tril_and_Triu_match_reference_for_every_diagonal(DType dtype)
    {
        foreach (var shape in new[] { new[] { 7, 7 }, new[] { 2, 5, 17 }, new[] { 3, 17, 4 }, new[] { 0, 3 }, new[] { 2, 1, 1 } })
        {
            var x = Samples.Of(shape[^1], dtype, shape);
            foreach (int diagonal in new[] { -20, -2, -1, 0, 1, 3, 20 })
            {
                Samples.Same(ReferenceIndexing.Triangle(Samples.Values(x), shape, diagonal, upper: false), shape, dtype, x.Tril(diagonal));
                Samples.Same(ReferenceIndexing.Triangle(Samples.Values(x), shape, diagonal, upper: true), shape, dtype, Samples.Strided(x).Triu(diagonal));
            }
        }
    }

    [Fact]
    public void Tril_of_ones_is_the_causal_pattern()
    {
        Assert.Equal(new float[] { 1, 0, 0, 1, 1, 0, 1, 1, 1 }, Tensor.Ones(3, 3).Tril().ToArray<float>());
        Assert.Equal(new float[] { 0, 1, 1, 0, 0, 1, 0, 0, 0 }, Tensor.Ones(3, 3).Triu(1).ToArray<float>());
    }

    [Fact]
    public void Tril_of_a_vector_is_refused()
    {
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(4).Tril(), "tril", "rank 2", "[4]");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Scalar(1).Triu(), "triu", "[]");
    }

    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void Flip_matches_reference_for_any_set_of_axes(DType dtype)
    {
        int[] shape = [3, 17, 4];
        var x = Samples.Of(2, dtype, shape);
        foreach (var axes in new[] { new int[0], [0], [1], [2], [0, 2], [-1, 1, 0] })
        {
            var normalized = axes.Select(a => a < 0 ? a + 3 : a).ToArray();
            var expected = ReferenceIndexing.Flip(Samples.Values(x), shape, normalized);
            Samples.Same(expected, shape, dtype, x.Flip(axes));
            Samples.Same(expected, shape, dtype, Samples.Strided(x).Flip(axes));
        }
    }

    [Fact]
    public void Flip_of_odd_and_empty_sizes_reverses()
    {
        foreach (int n in TestTensors.OddSizes)
        {
            var x = Tensor.Arange(0, n, 1, DType.Int32);
            Assert.Equal(Enumerable.Range(0, n).Reverse().ToArray(), x.Flip(0).ToArray<int>());
        }
        var broadcast = Tensor.FromArray(new[] { 1, 2 }, 2, 1).Expand(2, 3);
        Assert.Equal(new[] { 2, 2, 2, 1, 1, 1 }, broadcast.Flip(0, 1).ToArray<int>());
    }

    [Fact]
    public void Flip_of_a_repeated_axis_is_refused()
    {
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Flip(1, -1), "flip", "repeats", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Flip(2), "flip", "axis 2", "[2, 3]");
    }
}
