namespace Loom.Tests.Indexing;

public class MaskTests
{
    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void MaskedSelect_matches_reference_on_odd_sizes(DType dtype)
    {
        foreach (int n in TestTensors.OddSizes)
        {
            var x = Samples.Of(n, dtype, 3, n);
            var mask = Samples.Mask(n + 1, 0.4, 3, n);
            var expected = ReferenceIndexing.MaskedSelect(Samples.Values(x), mask.ToArray<bool>());
            Samples.Same(expected, [expected.Length], dtype, x.MaskedSelect(mask));
            Samples.Same(expected, [expected.Length], dtype, Samples.Strided(x).MaskedSelect(Samples.Strided(mask)));
        }
    }

    [Fact]
    public void MaskedSelect_broadcasts_the_tensor_and_the_mask_together()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3 }, 3, 1);
        var mask = Tensor.FromArray(new[] { true, false, true, true }, 1, 4);
        // Broadcast to [3, 4]: each row of x repeated, masked by the same row mask.
        Assert.Equal(new float[] { 1, 1, 1, 2, 2, 2, 3, 3, 3 }, x.MaskedSelect(mask).ToArray<float>());
        TensorAssert.Throws<ArgumentException>(() => x.MaskedSelect(Tensor.Zeros(new Shape(2, 1), DType.Bool)), "masked_select", "[3, 1]", "[2, 1]");
        TensorAssert.Throws<ArgumentException>(() => x.MaskedSelect(Tensor.Zeros(3, 1)), "masked_select", "bool", "float32");
    }

    [Fact]
    public void CountTrue_agrees_with_a_loop_past_every_vector_width()
    {
        for (int n = 0; n < 300; n += 7)
        {
            var mask = Samples.Mask(n, 0.5, n).ToArray<bool>();
            Assert.Equal(mask.Count(b => b), IndexingKernels.CountTrue(mask));
        }
    }

    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void MaskedFill_matches_a_loop_for_repeating_and_expanded_masks(DType dtype)
    {
        var x = Samples.Of(7, dtype, 2, 3, 33);
        double value = dtype == DType.Bool ? 1 : dtype == DType.UInt8 ? 7 : -7;
        // A mask over the trailing dimensions repeats as a pattern ([3, 33]); one with a size-1 middle dimension, or
        // too short a pattern, is expanded to the full shape first.
        foreach (var maskShape in new[] { new[] { 2, 3, 33 }, new[] { 3, 33 }, new[] { 1, 3, 33 }, new[] { 1, 1, 33 }, new[] { 2, 1, 33 }, new[] { 1 } })
        {
            var mask = Samples.Mask(maskShape.Length, 0.5, maskShape);
            var full = mask.Expand(2, 3, 33).ToArray<bool>();
            var src = Samples.Values(x);
            var expected = src.Select((v, i) => full[i] ? value : v).ToArray();
            Samples.Same(expected, [2, 3, 33], dtype, x.MaskedFill(mask, value));
            Samples.Same(expected, [2, 3, 33], dtype, Samples.Strided(x).MaskedFill(Samples.Strided(mask), value));
        }
    }

    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void MaskedFill_matches_a_loop_past_every_vector_width(DType dtype)
    {
        foreach (int n in TestTensors.OddSizes)
        {
            var x = Samples.Of(n, dtype, n);
            var mask = Samples.Mask(n + 2, 0.5, n);
            var m = mask.ToArray<bool>();
            var expected = Samples.Values(x).Select((v, i) => m[i] ? 1 : v).ToArray();
            Samples.Same(expected, [n], dtype, x.MaskedFill(mask, 1));
        }
    }

    [Fact]
    public void MaskedFill_with_a_causal_mask_hides_the_future()
    {
        int t = 9;
        var scores = TestTensors.Randn(1, DType.Float32, 2, 3, t, t);
        var future = Tensor.Ones(new Shape(t, t)).Triu(1).To(DType.Bool);
        var masked = scores.MaskedFill(future, double.NegativeInfinity);
        for (int r = 0; r < t; r++)
            for (int c = 0; c < t; c++)
                Assert.Equal(c > r ? double.NegativeInfinity : scores.GetDouble(1, 2, r, c), masked.GetDouble(1, 2, r, c));
    }

    [Fact]
    public void MaskedFill_with_a_mask_that_does_not_broadcast_names_both_shapes()
    {
        var x = Tensor.Zeros(2, 4);
        TensorAssert.Throws<ArgumentException>(() => x.MaskedFill(Tensor.Zeros(new Shape(3, 4), DType.Bool), 0), "masked_fill", "[3, 4]", "[2, 4]");
        TensorAssert.Throws<ArgumentException>(() => x.MaskedFill(Tensor.Zeros(new Shape(2, 2, 4), DType.Bool), 0), "masked_fill", "[2, 2, 4]", "[2, 4]");
        TensorAssert.Throws<ArgumentException>(() => x.MaskedFill(Tensor.Zeros(new Shape(2, 4), DType.Int32), 0), "masked_fill", "bool", "int32");
    }

    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void MaskedScatter_fills_masked_positions_with_the_source_in_order(DType dtype)
    {
        var x = Samples.Of(1, dtype, 4, 9);
        var mask = Samples.Mask(2, 0.5, 4, 9);
        var source = Samples.Of(3, dtype, 6, 7);
        var m = mask.ToArray<bool>();
        var src = Samples.Values(source);
        var expected = Samples.Values(x);
        for (int i = 0, k = 0; i < m.Length; i++) if (m[i]) expected[i] = src[k++];
        Samples.Same(expected, [4, 9], dtype, Samples.Strided(x).MaskedScatter(mask, Samples.Strided(source)));
    }

    [Fact]
    public void MaskedScatter_with_too_short_a_source_says_how_many_are_needed()
    {
        var mask = Tensor.FromArray(new[] { true, true, false, true });
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(4).MaskedScatter(mask, Tensor.Zeros(2)), "masked_scatter", "selects 3", "[4]", "[2]", "only 2");
    }

    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void Nonzero_lists_coordinates_in_row_major_order(DType dtype)
    {
        foreach (var shape in new[] { new[] { 5, 7 }, new[] { 3, 1, 17 }, new[] { 0, 4 }, new[] { 65 } })
        {
            // Mostly zeros: integers in [0, 3) for the numeric types.
            var x = dtype == DType.Bool ? Samples.Mask(shape.Length, 0.3, shape) : Samples.Index(shape[^1], 3, DType.Int64, shape).To(dtype);
            if (dtype.IsFloatingPoint() && x.Numel > 0) x = x.MaskedFill(Samples.Mask(9, 0.1, shape), double.NaN);
            var expected = ReferenceIndexing.Nonzero(Samples.Values(x), shape);
            var y = Samples.Strided(x).Nonzero();
            Assert.Equal(DType.Int64, y.DType);
            Assert.Equal(new Shape(expected.Length / shape.Length, shape.Length), y.Shape);
            Assert.Equal(expected, y.ToArray<long>());
        }
    }

    [Fact]
    public void Nonzero_of_a_scalar_has_no_columns()
    {
        Assert.Equal(new Shape(1, 0), Tensor.Scalar(3).Nonzero().Shape);
        Assert.Equal(new Shape(0, 0), Tensor.Scalar(0).Nonzero().Shape);
    }
}
