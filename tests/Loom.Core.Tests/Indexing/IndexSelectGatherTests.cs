namespace Loom.Tests.Indexing;

public class IndexSelectGatherTests
{
    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void IndexSelect_matches_reference_on_every_axis_and_odd_sizes(DType dtype)
    {
        int[] shape = [3, 5, 4];
        var x = Samples.Of(1, dtype, shape);
        foreach (var input in new[] { x, Samples.Strided(x), Samples.Of(2, dtype, 3, 1, 4).Expand(shape) })
        {
            for (int axis = 0; axis < 3; axis++)
            {
                foreach (int n in TestTensors.OddSizes)
                {
                    var index = Samples.Index(n + axis, shape[axis], n % 2 == 0 ? DType.Int64 : DType.Int32, n);
                    var expected = ReferenceIndexing.IndexSelect(Samples.Values(input), shape, axis, index.ToArray<long>());
                    var outShape = (int[])shape.Clone();
                    outShape[axis] = n;
                    Samples.Same(expected, outShape, dtype, input.IndexSelect(axis, index));
                }
            }
        }
    }

    [Fact]
    public void IndexSelect_takes_strided_and_scalar_indices()
    {
        var x = Tensor.Arange(0, 12, 1, DType.Float64).Reshape(3, 4);
        var index = Tensor.FromArray(new long[] { 3, 9, 0, 9, 1, 9 }).Slice(0, 0, 6, 2);
        Assert.Equal(new double[] { 3, 0, 1, 7, 4, 5, 11, 8, 9 }, x.IndexSelect(1, index).ToArray<double>());
        var one = x.IndexSelect(0, Tensor.Scalar(2, DType.Int32));
        Assert.Equal(new Shape(1, 4), one.Shape);
        Assert.Equal(new double[] { 8, 9, 10, 11 }, one.ToArray<double>());
    }

    [Fact]
    public void IndexSelect_out_of_range_names_the_index_the_axis_and_the_size()
    {
        var x = Tensor.Zeros(2, 5);
        TensorAssert.Throws<ArgumentException>(() => x.IndexSelect(1, Tensor.FromArray(new long[] { 0, 5 })), "index_select", "index 5", "axis 1", "size 5");
        TensorAssert.Throws<ArgumentException>(() => x.IndexSelect(0, Tensor.FromArray(new[] { -1 })), "index_select", "index -1", "axis 0", "size 2");
    }

    [Fact]
    public void IndexSelect_needs_a_one_dimensional_integer_index()
    {
        var x = Tensor.Zeros(2, 5);
        TensorAssert.Throws<ArgumentException>(() => x.IndexSelect(0, Tensor.Zeros(2)), "index_select", "int32 or int64", "float32");
        TensorAssert.Throws<ArgumentException>(() => x.IndexSelect(0, Tensor.Zeros(new Shape(1, 1), DType.Int64)), "index_select", "1-D", "[1, 1]", "[2, 5]");
        TensorAssert.Throws<ArgumentException>(() => x.IndexSelect(2, Tensor.Zeros(new Shape(1), DType.Int64)), "index_select", "axis 2", "[2, 5]");
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.Int32)]
    [InlineData(DType.Int64)]
    public void IndexAdd_matches_reference_and_accumulates_repeated_positions(DType dtype)
    {
        int[] shape = [3, 5, 4];
        var self = Samples.Of(1, dtype, shape);
        for (int axis = 0; axis < 3; axis++)
        {
            foreach (int n in TestTensors.OddSizes)
            {
                var sourceShape = (int[])shape.Clone();
                sourceShape[axis] = n;
                var source = Samples.Of(n, dtype, sourceShape);
                var index = Samples.Index(n + axis, shape[axis], DType.Int32, n);
                var expected = ReferenceIndexing.IndexAdd(Samples.Values(self), shape, axis, index.ToArray<long>(), Samples.Values(source));
                var y = Samples.Strided(self).IndexAdd(axis, index, Samples.Strided(source));
                Assert.Equal(dtype, y.DType);
                TensorAssert.Close(Tensor.FromArray(expected, shape), y.To(DType.Float64), 1e-5, 1e-6);
            }
        }
    }

    [Fact]
    public void IndexAdd_argument_errors_name_the_shapes()
    {
        var self = Tensor.Zeros(2, 5);
        var index = Tensor.FromArray(new long[] { 4, 4, 0 });
        TensorAssert.Throws<ArgumentException>(() => self.IndexAdd(1, index, Tensor.Zeros(2, 2)), "index_add", "[2, 2]", "[2, 5]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => self.IndexAdd(1, Tensor.FromArray(new long[] { 5 }), Tensor.Zeros(2, 1)), "index_add", "index 5", "axis 1", "size 5");
        TensorAssert.Throws<NotSupportedException>(() => Tensor.Zeros(new Shape(2), DType.Bool).IndexAdd(0, Tensor.FromArray(new long[] { 1, 1, 0 }), Tensor.Zeros(new Shape(3), DType.Bool)), "index_add", "bool");
    }

    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void Gather_matches_reference_including_indices_smaller_than_the_input(DType dtype)
    {
        int[] shape = [4, 6, 5];
        var x = Samples.Of(3, dtype, shape);
        foreach (var input in new[] { x, Samples.Strided(x), Samples.Of(4, dtype, 4, 6, 1).Expand(shape) })
        {
            for (int axis = 0; axis < 3; axis++)
            {
                foreach (var indexShape in new[] { new[] { 4, 6, 5 }, new[] { 2, 3, 1 }, new[] { 4, 1, 5 }, new[] { 0, 2, 2 } })
                {
                    var ix = (int[])indexShape.Clone();
                    ix[axis] = 7; // along the gathered axis the index may be longer than the input
                    var index = Samples.Index(axis, shape[axis], DType.Int64, ix);
                    var expected = ReferenceIndexing.Gather(Samples.Values(input), shape, axis, index.ToArray<long>(), ix);
                    Samples.Same(expected, ix, dtype, input.Gather(axis, index));
                    Samples.Same(expected, ix, dtype, input.Gather(axis - 3, Samples.Strided(index.To(DType.Int32))));
                }
            }
        }
    }

    [Fact]
    public void Gather_of_odd_sizes_along_the_last_axis_matches_reference()
    {
        foreach (int n in TestTensors.OddSizes)
        {
            var x = Samples.Of(n, DType.Float32, 3, Math.Max(n, 1));
            var index = Samples.Index(n, Math.Max(n, 1), DType.Int64, 3, n);
            var expected = ReferenceIndexing.Gather(Samples.Values(x), [3, Math.Max(n, 1)], 1, index.ToArray<long>(), [3, n]);
            Samples.Same(expected, [3, n], DType.Float32, x.Gather(1, index));
        }
    }

    [Fact]
    public void Gather_with_an_ill_fitting_index_names_the_shapes()
    {
        var x = Tensor.Zeros(2, 3);
        TensorAssert.Throws<ArgumentException>(() => x.Gather(1, Tensor.Zeros(new Shape(2), DType.Int64)), "gather", "rank", "[2]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => x.Gather(1, Tensor.Zeros(new Shape(3, 1), DType.Int64)), "gather", "dimension 0", "[3, 1]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => x.Gather(1, Tensor.Full(new Shape(2, 1), 3, DType.Int64)), "gather", "index 3", "axis 1", "size 3");
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.Int32)]
    [InlineData(DType.Int64)]
    public void ScatterAdd_matches_reference_and_accumulates_repeated_positions(DType dtype)
    {
        int[] shape = [4, 5, 3];
        var self = Samples.Of(1, dtype, shape);
        for (int axis = 0; axis < 3; axis++)
        {
            foreach (var ix in new[] { new[] { 4, 5, 3 }, new[] { 2, 4, 2 }, new[] { 3, 4, 1 } })
            {
                var indexShape = (int[])ix.Clone();
                indexShape[axis] = 9; // longer than the axis, so positions repeat
                int[] sourceShape = [indexShape[0] + 1, indexShape[1] + 2, indexShape[2]];
                var source = Samples.Of(2, dtype, sourceShape);
                var index = Samples.Index(3 + axis, shape[axis], DType.Int64, indexShape);
                var expected = ReferenceIndexing.ScatterAdd(Samples.Values(self), shape, axis, index.ToArray<long>(), indexShape, Samples.Values(source), sourceShape);
                var y = Samples.Strided(self).ScatterAdd(axis, index, Samples.Strided(source));
                Assert.Equal(dtype, y.DType);
                TensorAssert.Close(Tensor.FromArray(expected, shape), y.To(DType.Float64), 1e-5, 1e-6);
            }
        }
    }

    [Fact]
    public void ScatterAdd_leaves_its_input_unchanged()
    {
        var self = Tensor.Zeros(new Shape(3), DType.Int64);
        var y = self.ScatterAdd(0, Tensor.FromArray(new long[] { 2, 2, 0 }), Tensor.FromArray(new long[] { 5, 6, 7 }));
        Assert.Equal(new long[] { 7, 0, 11 }, y.ToArray<long>());
        Assert.Equal(new long[] { 0, 0, 0 }, self.ToArray<long>());
    }

    [Fact]
    public void ScatterAddInPlace_writes_through_a_strided_view()
    {
        var big = Tensor.Zeros(new Shape(3, 4), DType.Float64);
        var column = big.Select(1, 2); // stride 4
        int version = big.Storage.Version;
        var returned = column.ScatterAddInPlace(0, Tensor.FromArray(new[] { 1, 1, 2 }), Tensor.FromArray(new double[] { 1, 2, 4 }));
        Assert.Same(column, returned);
        Assert.Equal(new double[] { 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 4, 0 }, big.ToArray<double>());
        Assert.True(big.Storage.Version > version);
    }

    [Fact]
    public void ScatterAddInPlace_refuses_what_autograd_cannot_follow()
    {
        var leaf = TestTensors.Param(1, 3);
        var index = Tensor.FromArray(new long[] { 0 });
        var source = Tensor.FromArray(new double[] { 1 });
        TensorAssert.Throws<InvalidOperationException>(() => leaf.ScatterAddInPlace(0, index, source), "scatter_add_", "leaf");
        TensorAssert.Throws<InvalidOperationException>(() => Tensor.Zeros(new Shape(3), DType.Float64).ScatterAddInPlace(0, index, TestTensors.Param(2, 1)), "scatter_add_", "requires grad", "ScatterAdd");
        TensorAssert.Throws<InvalidOperationException>(() => Tensor.Zeros(new Shape(1), DType.Float64).Expand(3).ScatterAddInPlace(0, index, source), "scatter_add_", "broadcast", "[3]");
        using (new NoGrad()) leaf.ScatterAddInPlace(0, index, source);
    }

    [Fact]
    public void ScatterAdd_argument_errors_name_the_shapes_and_dtypes()
    {
        var self = Tensor.Zeros(2, 3);
        var index = Tensor.Zeros(new Shape(2, 3), DType.Int64);
        TensorAssert.Throws<ArgumentException>(() => self.ScatterAdd(1, index, Tensor.Zeros(2, 2)), "scatter_add", "[2, 3]", "[2, 2]", "source");
        TensorAssert.Throws<ArgumentException>(() => self.ScatterAdd(1, index, Tensor.Zeros(new Shape(2, 3), DType.Float64)), "scatter_add", "float64", "float32");
        TensorAssert.Throws<NotSupportedException>(() => Tensor.Zeros(new Shape(2, 3), DType.Bool).ScatterAdd(1, index, Tensor.Zeros(new Shape(2, 3), DType.Bool)), "scatter_add", "bool");
        TensorAssert.Throws<ArgumentException>(() => self.ScatterAdd(1, Tensor.Full(new Shape(1, 1), 4, DType.Int64), Tensor.Zeros(2, 3)), "scatter_add", "index 4", "axis 1", "size 3");
    }
}
