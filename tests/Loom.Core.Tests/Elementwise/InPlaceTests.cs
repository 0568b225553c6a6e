namespace Loom.Tests.Elementwise;

public class InPlaceTests
{
    [Fact]
    public void In_place_ops_match_their_out_of_place_forms()
    {
        foreach (var dtype in ElementwiseCheck.FloatTypes)
        {
            foreach (int n in TestTensors.OddSizes)
            {
                var x = TestTensors.Uniform(n, 0.5, 2, dtype, 3, n);
                var y = TestTensors.Uniform(n + 1, 0.5, 2, dtype, 3, n);
                var row = TestTensors.Uniform(n + 2, 0.5, 2, dtype, n);
                Check(x, t => t.AddInPlace(y), x + y);
                Check(x, t => t.AddInPlace(row, alpha: -0.5), x - row * 0.5);
                Check(x, t => t.AddInPlace(y, alpha: 3), x + y * 3);
                Check(x, t => t.SubInPlace(y), x - y);
                Check(x, t => t.SubInPlace(y, alpha: 2), x - y * 2);
                Check(x, t => t.MulInPlace(row), x * row);
                Check(x, t => t.DivInPlace(y), x / y);
                Check(x, t => t.AddInPlace(1.5), x + 1.5);
                Check(x, t => t.SubInPlace(1.5), x - 1.5);
                Check(x, t => t.MulInPlace(-2), x * -2);
                Check(x, t => t.DivInPlace(4), x / 4);
                Check(x, t => t.ClampInPlace(0.8, 1.2), x.Clamp(0.8, 1.2));
                Check(x, t => t.FillInPlace(7), Tensor.Full(x.Shape, 7, dtype));
                Check(x, t => t.ZeroInPlace(), Tensor.Zeros(x.Shape, dtype));
            }
        }

        static void Check(Tensor x, Func<Tensor, Tensor> op, Tensor expected)
        {
            // Contiguous destination, then a strided view of a larger buffer: only the view's elements change.
            var t = x.Clone();
            Assert.Same(t, op(t));
            TensorAssert.Close(expected, t, 1e-6, 1e-6);
            var strided = TestTensors.NonContiguous(x);
            var before = strided.Storage.Version;
            op(strided);
            TensorAssert.Close(expected, strided, 1e-6, 1e-6);
            Assert.True(strided.Storage.Version > before);
        }
    }

    [Fact]
    public void Strided_destination_leaves_the_other_elements_alone()
    {
        var buffer = Tensor.Arange(0, 12, 1, DType.Float32).Reshape(3, 4);
        var column = buffer.Select(1, 2);
        column.AddInPlace(100);
        Assert.Equal(new float[] { 0, 1, 102, 3, 4, 5, 106, 7, 8, 9, 110, 11 }, buffer.ToArray<float>());
        buffer.Slice(1, 0, 4, 2).FillInPlace(-1);
        Assert.Equal(new float[] { -1, 1, -1, 3, -1, 5, -1, 7, -1, 9, -1, 11 }, buffer.ToArray<float>());
    }

    [Fact]
    public void Every_in_place_op_bumps_the_version()
    {
        var x = Tensor.Ones(2, 2);
        int v = x.Storage.Version;
        x.AddInPlace(x);
        x.AddInPlace(x, 2);
        x.MulInPlace(2);
        x.DivInPlace(2);
        x.SubInPlace(1);
        x.FillInPlace(3);
        x.ZeroInPlace();
        x.ClampInPlace(0, 1);
        Assert.Equal(v + 8, x.Storage.Version);
    }

    [Fact]
    public void Integer_tensors_take_integral_operands_only()
    {
        var i = Tensor.FromArray(new long[] { 1, 2, 3 });
        i.AddInPlace(2).MulInPlace(Tensor.FromArray(new int[] { 1, 2, 3 })).SubInPlace(Tensor.Scalar(1, DType.Int64), alpha: 2);
        Assert.Equal(new long[] { 1, 6, 13 }, i.ToArray<long>());
        TensorAssert.Throws<ArgumentException>(() => i.AddInPlace(0.5), "add_", "0.5", "int64");
        TensorAssert.Throws<ArgumentException>(() => i.AddInPlace(Tensor.Ones(3)), "add_", "float32", "int64");
        TensorAssert.Throws<NotSupportedException>(() => i.DivInPlace(2), "div_", "int64");
        TensorAssert.Throws<ArgumentException>(() => i.FillInPlace(1.5), "fill_", "int64");
    }

    [Fact]
    public void Operand_must_broadcast_to_the_destination_shape()
    {
        var x = Tensor.Zeros(3);
        TensorAssert.Throws<ArgumentException>(() => x.AddInPlace(Tensor.Zeros(2, 3)), "add_", "[2, 3]", "[3]");
        TensorAssert.Throws<ArgumentException>(() => x.MulInPlace(Tensor.Zeros(4)), "mul_", "[3]", "[4]");
    }

    [Fact]
    public void Leaf_requiring_grad_is_refused_outside_NoGrad_and_updated_inside()
    {
        var p = TestTensors.Param(1, 3);
        var g = Tensor.Ones(new Shape(3), DType.Float64);
        TensorAssert.Throws<InvalidOperationException>(() => p.SubInPlace(g, alpha: 0.1), "add_", "leaf");
        var before = p.ToArray<double>();
        using (new NoGrad()) p.SubInPlace(g, alpha: 0.1);
        Assert.Equal(before.Select(v => v - 0.1).ToArray(), p.ToArray<double>());
        Assert.True(p.IsLeaf);
        var y = p * 2;
        TensorAssert.Throws<InvalidOperationException>(() => y.MulInPlace(2), "mul_", "graph");
    }

    [Fact]
    public void Overlapping_operand_is_read_before_it_is_overwritten()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, 2, 2);
        x.AddInPlace(x.Transpose(0, 1));
        Assert.Equal(new float[] { 2, 5, 5, 8 }, x.ToArray<float>());
        var y = Tensor.FromArray(new float[] { 1, 2, 3 });
        y.MulInPlace(y);
        Assert.Equal(new float[] { 1, 4, 9 }, y.ToArray<float>());
    }
}
