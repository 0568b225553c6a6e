namespace Loom.Tests.Indexing;

public class JoinTests
{
    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void Cat_matches_reference_on_odd_sizes_with_strided_and_broadcast_inputs(DType dtype)
    {
        foreach (int n in TestTensors.OddSizes)
        {
            var a = Samples.Of(1, dtype, 3, n, 2);
            var b = Samples.Strided(Samples.Of(2, dtype, 3, 5, 2));
            var c = Samples.Of(3, dtype, 1, 1, 2).Expand(3, 4, 2);
            var y = Tensor.Cat([a, b, c], axis: 1);
            var expected = ReferenceIndexing.Cat([Samples.Values(a), Samples.Values(b), Samples.Values(c)], [[3, n, 2], [3, 5, 2], [3, 4, 2]], 1);
            Samples.Same(expected, [3, n + 9, 2], dtype, y);
        }
    }

    [Fact]
    public void Cat_along_first_and_last_axis_matches_reference()
    {
        var a = Samples.Of(1, DType.Float32, 4, 17);
        var b = Samples.Of(2, DType.Float32, 4, 7);
        Samples.Same(ReferenceIndexing.Cat([Samples.Values(a), Samples.Values(b)], [[4, 17], [4, 7]], 1), [4, 24], DType.Float32, Tensor.Cat([a, b], -1));
        var c = Samples.Of(3, DType.Float32, 33, 17);
        Samples.Same(ReferenceIndexing.Cat([Samples.Values(a), Samples.Values(c)], [[4, 17], [33, 17]], 0), [37, 17], DType.Float32, Tensor.Cat([a, c]));
    }

    [Fact]
    public void Cat_of_one_tensor_is_a_copy()
    {
        var a = Samples.Of(1, DType.Int64, 3, 4);
        var y = Tensor.Cat([a], 1);
        Assert.NotSame(a.Storage, y.Storage);
        Assert.Equal(Samples.Values(a), Samples.Values(y));
    }

    [Fact]
    public void Cat_of_mismatched_shapes_names_every_shape_and_the_axis()
    {
        var a = Tensor.Zeros(2, 3);
        var b = Tensor.Zeros(2, 4);
        var c = Tensor.Zeros(3, 3);
        TensorAssert.Throws<ArgumentException>(() => Tensor.Cat([a, b, c], 1), "cat", "[2, 3]", "[2, 4]", "[3, 3]", "axis 1");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Cat([a, Tensor.Zeros(2, 3, 1)], 0), "cat", "[2, 3]", "[2, 3, 1]", "axis 0");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Cat([a, a], 2), "cat", "axis 2", "[2, 3]");
    }

    [Fact]
    public void Cat_of_mixed_dtypes_promotes_as_pytorch()
    {
        var a = Tensor.Full(new Shape(2), 1.5, DType.Float32);
        var b = Tensor.FromArray(new long[] { 7, 8 });
        var c = Tensor.Cat([a, a, b]);
        Assert.Equal(DType.Float32, c.DType);
        Assert.Equal(new float[] { 1.5f, 1.5f, 1.5f, 1.5f, 7, 8 }, c.ToArray<float>());
    }

    [Fact]
    public void Cat_of_nothing_or_of_scalars_is_refused()
    {
        TensorAssert.Throws<ArgumentException>(() => Tensor.Cat([]), "cat", "non-empty");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Cat([Tensor.Scalar(1), Tensor.Scalar(2)]), "cat", "zero-dimensional");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Stack_puts_each_tensor_at_its_position_on_a_new_axis(int axis)
    {
        var parts = Enumerable.Range(0, 3).Select(i => Samples.Of(i, DType.Int32, 4, 5)).ToArray();
        parts[1] = Samples.Strided(parts[1]);
        var y = Tensor.Stack(parts, axis);
        int a = axis < 0 ? axis + 3 : axis;
        var dims = new List<int> { 4, 5 };
        dims.Insert(a, 3);
        Assert.Equal(new Shape(dims.ToArray()), y.Shape);
        for (int i = 0; i < 3; i++) Assert.Equal(Samples.Values(parts[i]), Samples.Values(y.Select(a, i)));
    }

    [Fact]
    public void Stack_of_different_shapes_or_bad_axis_is_refused()
    {
        TensorAssert.Throws<ArgumentException>(() => Tensor.Stack([Tensor.Zeros(2, 3), Tensor.Zeros(3, 2)]), "stack", "[2, 3]", "[3, 2]");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Stack([Tensor.Zeros(2, 3)], 3), "stack", "axis 3", "[2, 3]");
        var bools = Tensor.Zeros(new Shape(2), DType.Bool);
        Assert.Equal(DType.Float32, Tensor.Stack([bools, Tensor.Zeros(2)]).DType); // mixed dtypes promote, as in PyTorch
    }

    [Fact]
    public void Split_by_size_returns_views_with_a_short_last_piece()
    {
        var x = Tensor.Arange(0, 14, 1, DType.Float32).Reshape(2, 7);
        var pieces = x.Split(3, axis: 1);
        Assert.Equal([3, 3, 1], pieces.Select(p => p.Shape[1]));
        Assert.All(pieces, p => Assert.Same(x.Storage, p.Storage));
        Assert.Equal(new float[] { 3, 4, 5, 10, 11, 12 }, pieces[1].ToArray<float>());
        Assert.Equal(new float[] { 6, 13 }, pieces[2].ToArray<float>());
        Assert.Single(Tensor.Zeros(0, 3).Split(2));
        TensorAssert.Throws<ArgumentException>(() => x.Split(0, 1), "split", "positive", "[2, 7]");
    }

    [Fact]
    public void Split_by_sizes_must_add_up_to_the_axis()
    {
        var x = Samples.Of(1, DType.Bool, 9, 2);
        var pieces = x.Split([2, 0, 7]);
        Assert.Equal([2, 0, 7], pieces.Select(p => p.Shape[0]));
        Assert.Equal(Samples.Values(x.Narrow(0, 2, 7)), Samples.Values(pieces[2]));
        TensorAssert.Throws<ArgumentException>(() => x.Split([2, 3]), "split", "[2, 3]", "add up to 5", "[9, 2]", "size 9");
        TensorAssert.Throws<ArgumentException>(() => x.Split([10, -1]), "split", "negative");
    }

    [Theory]
    [InlineData(5, 4, new[] { 2, 2, 1 })]
    [InlineData(6, 3, new[] { 2, 2, 2 })]
    [InlineData(7, 3, new[] { 3, 3, 1 })]
    [InlineData(2, 5, new[] { 1, 1 })]
    [InlineData(0, 3, new[] { 0 })]
    public void Chunk_gives_at_most_the_requested_pieces_like_torch(int size, int chunks, int[] expected)
    {
        var pieces = Tensor.Zeros(3, size).Chunk(chunks, -1);
        Assert.Equal(expected, pieces.Select(p => p.Shape[1]));
    }

    [Fact]
    public void Chunk_of_zero_pieces_is_refused()
    {
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(3).Chunk(0), "chunk", "positive", "[3]");
    }

    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void Repeat_matches_reference_with_new_leading_dimensions(DType dtype)
    {
        var x = Samples.Of(4, dtype, 3, 5);
        foreach (var input in new[] { x, Samples.Strided(x), Samples.Of(5, dtype, 3, 1).Expand(3, 5) })
        {
            foreach (var repeats in new[] { new[] { 1, 1 }, new[] { 2, 3 }, new[] { 2, 1, 4 }, new[] { 3, 0, 2 } })
            {
                var expected = ReferenceIndexing.Repeat(Samples.Values(input), [3, 5], repeats);
                var shape = repeats.Select((r, i) => r * (i < repeats.Length - 2 ? 1 : new[] { 3, 5 }[i - (repeats.Length - 2)])).ToArray();
                Samples.Same(expected, shape, dtype, input.Repeat(repeats));
            }
        }
    }

    [Fact]
    public void Repeat_of_odd_sizes_matches_reference()
    {
        foreach (int n in TestTensors.OddSizes)
        {
            var x = Samples.Of(n, DType.Float32, n, 2);
            Samples.Same(ReferenceIndexing.Repeat(Samples.Values(x), [n, 2], [3, 2]), [3 * n, 4], DType.Float32, x.Repeat(3, 2));
            var column = Samples.Of(n, DType.Int32, n, 1);
            Samples.Same(ReferenceIndexing.Repeat(Samples.Values(column), [n, 1], [2, 1, 65]), [2, n, 65], DType.Int32, column.Repeat(2, 1, 65));
        }
    }

    [Fact]
    public void Repeat_needs_a_count_per_dimension()
    {
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Repeat(2), "repeat", "[2]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Repeat(2, -1), "repeat", "negative");
    }
}
