namespace Loom.Tests.Elementwise;

public class ComparisonTests
{
    public static TheoryData<string> Comparisons => ["eq", "ne", "lt", "le", "gt", "ge"];

    private static Func<Tensor, Tensor, Tensor> Op(string name) => name switch
    {
        "eq" => (a, b) => a.Eq(b),
        "ne" => (a, b) => a.Ne(b),
        "lt" => (a, b) => a.Lt(b),
        "le" => (a, b) => a.Le(b),
        "gt" => (a, b) => a.Gt(b),
        "ge" => (a, b) => a.Ge(b),
        _ => throw new ArgumentException(name),
    };

    private static Func<double, double, double> Reference(string name) => name switch
    {
        "eq" => (a, b) => a == b ? 1 : 0,
        "ne" => (a, b) => a != b ? 1 : 0,
        "lt" => (a, b) => a < b ? 1 : 0,
        "le" => (a, b) => a <= b ? 1 : 0,
        "gt" => (a, b) => a > b ? 1 : 0,
        "ge" => (a, b) => a >= b ? 1 : 0,
        _ => throw new ArgumentException(name),
    };

    [Theory, MemberData(nameof(Comparisons))]
    public void Comparison_gives_bool_and_matches_reference_with_broadcasting(string name)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64, DType.Int32, DType.Int64 })
        {
            foreach (int n in TestTensors.OddSizes)
                ElementwiseCheck.Binary(Op(name), Reference(name), dtype, [n], [n], low: -2, high: 2, stridedA: n > 0, tol: 0);
            foreach (var (a, b) in ElementwiseCheck.BroadcastShapes)
                ElementwiseCheck.Binary(Op(name), Reference(name), dtype, a, b, low: -2, high: 2, tol: 0);
        }
        // Rounded values make ties, so eq/le/ge see equal elements.
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 2 });
        var y = Tensor.FromArray(new double[] { 2, 2, 2, 2 });
        var result = Op(name)(x, y);
        Assert.Equal(DType.Bool, result.DType);
        var expected = ReferenceElementwise.Binary(x.ToArray<double>(), x.Shape, y.ToArray<double>(), y.Shape, Reference(name), out _);
        Assert.Equal(expected, result.ToArray<double>());
    }

    [Fact]
    public void Scalar_comparisons_promote_an_integer_tensor_for_a_fractional_value()
    {
        var i = Tensor.FromArray(new int[] { 0, 1, 2 });
        Assert.Equal(new[] { false, true, true }, i.Gt(0.5).ToArray<bool>());
        Assert.Equal(new[] { false, true, false }, i.Eq(1).ToArray<bool>());
        var f = Tensor.FromArray(new float[] { float.NaN, 1, 2 });
        Assert.Equal(new[] { false, false, false }, f.Eq(float.NaN).ToArray<bool>());
        Assert.Equal(new[] { true, false, false }, f.Ne(f).ToArray<bool>());
        Assert.Equal(new[] { false, true, false }, f.Le(1).ToArray<bool>());
    }

    [Fact]
    public void Logical_ops_treat_nonzero_as_true_and_broadcast()
    {
        var a = Tensor.FromArray(new[] { true, false, true, false }, 2, 2);
        var b = Tensor.FromArray(new[] { true, false });
        Assert.Equal(new[] { true, false, true, false }, a.LogicalAnd(b).ToArray<bool>());
        Assert.Equal(new[] { true, false, true, false }, a.LogicalOr(b.LogicalAnd(Tensor.FromArray(new[] { false, false }))).ToArray<bool>());
        Assert.Equal(new[] { false, false, false, false }, a.LogicalXor(a).ToArray<bool>());
        Assert.Equal(new[] { false, true, false, true }, a.LogicalNot().ToArray<bool>());
        Assert.Equal(new[] { true, false, true }, Tensor.FromArray(new float[] { 2, 0, -1 }).LogicalOr(Tensor.Scalar(0)).ToArray<bool>());
        Assert.Equal(new[] { false, true }, Tensor.FromArray(new[] { true, false }).Lt(Tensor.FromArray(new[] { true, true })).ToArray<bool>());
    }

    [Fact]
    public void Where_selects_with_broadcasting_of_all_three()
    {
        var cond = Tensor.FromArray(new[] { true, false, true }, 3, 1);
        foreach (var dtype in new[] { DType.Float32, DType.Float64, DType.Int64 })
        {
            var a = TestTensors.Uniform(1, -5, 5, DType.Float64, 1, 4).To(dtype);
            var b = TestTensors.Uniform(2, -5, 5, DType.Float64, 3, 4).To(dtype);
            var expected = ReferenceElementwise.Where(cond.ToArray<bool>(), cond.Shape, a.ToArray<double>(), a.Shape, b.ToArray<double>(), b.Shape, out var shape);
            var actual = Tensor.Where(cond, a, TestTensors.NonContiguous(b));
            Assert.Equal(shape, actual.Shape);
            Assert.Equal(dtype, actual.DType);
            Assert.Equal(expected, actual.ToArray<double>());
        }
        Assert.Equal(new Shape(2, 3), Tensor.Where(Tensor.FromArray(new[] { true, false, true }), Tensor.Scalar(1), Tensor.Zeros(2, 1)).Shape);
    }

    [Fact]
    public void Where_gradient_goes_to_the_selected_side_reduced_to_each_shape()
    {
        var cond = TestTensors.Randn(3, DType.Float64, 3, 4).Gt(0);
        TensorAssert.GradientsMatch(t => Tensor.Where(cond, t[0], t[1]), TestTensors.Param(1, 3, 4), TestTensors.Param(2, 3, 4));
        TensorAssert.GradientsMatch(t => Tensor.Where(cond, t[0], t[1]), TestTensors.Param(1, 4), TestTensors.Param(2, 3, 1));
        TensorAssert.GradientsMatch(t => Tensor.Where(cond, t[0], t[0] * 2), TestTensors.Param(1, 3, 4));
    }

    [Fact]
    public void Where_refuses_a_non_bool_condition_and_incompatible_shapes()
    {
        TensorAssert.Throws<ArgumentException>(() => Tensor.Where(Tensor.Zeros(3), Tensor.Zeros(3), Tensor.Zeros(3)), "where", "bool", "float32");
        var c = Tensor.Zeros(new Shape(2), DType.Bool);
        TensorAssert.Throws<ArgumentException>(() => Tensor.Where(c, Tensor.Zeros(3), Tensor.Zeros(3)), "where", "[2]", "[3]");
    }

    [Fact]
    public void MaskedFill_writes_the_value_where_the_broadcast_mask_is_true()
    {
        var x = Tensor.Arange(0, 6, 1, DType.Float32).Reshape(2, 3);
        var mask = Tensor.FromArray(new[] { false, true, true });
        Assert.Equal(new float[] { 0, -1, -1, 3, -1, -1 }, x.MaskedFill(mask, -1).ToArray<float>());
        var causal = Tensor.FromArray(new[] { false, true, false, false }, 2, 2);
        var scores = Tensor.Zeros(3, 2, 2).MaskedFill(causal, double.NegativeInfinity);
        Assert.Equal(float.NegativeInfinity, scores.GetDouble(2, 0, 1));
        Assert.Equal(0, scores.GetDouble(2, 1, 0));
        var i = Tensor.FromArray(new int[] { 1, 2 });
        Assert.Equal(new[] { 7, 2 }, i.MaskedFill(Tensor.FromArray(new[] { true, false }), 7).ToArray<int>());
    }

    [Fact]
    public void MaskedFill_gradient_is_zero_where_filled()
    {
        var mask = Tensor.FromArray(new[] { true, false, false, true }, 2, 2);
        TensorAssert.GradientsMatch(t => t[0].MaskedFill(mask, 3), TestTensors.Param(4, 2, 2));
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4 }, 2, 2).RequiresGrad_();
        x.MaskedFill(mask, 0).Backward(Tensor.Ones(new Shape(2, 2), DType.Float64));
        Assert.Equal(new double[] { 0, 1, 1, 0 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void MaskedFill_mask_must_be_bool_and_not_larger_than_the_tensor()
    {
        var x = Tensor.Zeros(2, 3);
        TensorAssert.Throws<ArgumentException>(() => x.MaskedFill(Tensor.Zeros(new Shape(4, 2, 3), DType.Bool), 1), "masked_fill", "[4, 2, 3]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => x.MaskedFill(Tensor.Zeros(3), 1), "masked_fill", "bool", "float32");
        TensorAssert.Throws<ArgumentException>(() => Tensor.FromArray(new int[] { 1 }).MaskedFill(Tensor.Scalar(1, DType.Bool), 0.5), "masked_fill", "int32");
    }

    [Fact]
    public void IsNan_and_IsFinite_classify_every_element()
    {
        foreach (var dtype in ElementwiseCheck.FloatTypes)
        {
            var x = Tensor.FromArray(new double[] { 1, double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 7 }, 2, 3).To(dtype);
            var t = x.Transpose(0, 1);
            Assert.Equal(new[] { false, true, false, false, false, false }, x.IsNan().ToArray<bool>());
            Assert.Equal(new[] { true, false, false, false, true, true }, x.IsFinite().ToArray<bool>());
            Assert.Equal(new[] { false, false, true, false, false, false }, t.IsNan().ToArray<bool>());
            Assert.True(x.HasNonFinite());
            Assert.False(x.Slice(1, 0, 1).HasNonFinite() && !double.IsFinite(x.GetDouble(0, 0)));
        }
        var i = Tensor.FromArray(new long[] { 1, 2 });
        Assert.Equal(new[] { false, false }, i.IsNan().ToArray<bool>());
        Assert.Equal(new[] { true, true }, i.IsFinite().ToArray<bool>());
        Assert.False(Tensor.Ones(3, 3).HasNonFinite());
    }

    [Fact]
    public void AllClose_and_Equal_compare_values()
    {
        var a = Tensor.FromArray(new double[] { 1, 2, double.NaN });
        var b = Tensor.FromArray(new float[] { 1, 2.000001f, float.NaN });
        Assert.False(a.AllClose(b));
        Assert.True(a.AllClose(b, equalNan: true));
        Assert.False(a.AllClose(b, rtol: 0, atol: 0, equalNan: true));
        Assert.True(Tensor.Ones(2, 3).AllClose(Tensor.Scalar(1)));
        Assert.False(Tensor.FromArray(new[] { double.PositiveInfinity }).AllClose(Tensor.FromArray(new[] { double.NegativeInfinity })));
        TensorAssert.Throws<ArgumentException>(() => Tensor.Ones(2).AllClose(Tensor.Ones(3)), "allclose", "[2]", "[3]");

        Assert.True(Tensor.Arange(4, DType.Int64).Equal(Tensor.Arange(0, 4, 1, DType.Float32)));
        Assert.False(Tensor.Ones(2, 2).Equal(Tensor.Ones(4)));
        Assert.False(Tensor.Ones(2).Equal(Tensor.FromArray(new float[] { 1, 0 })));
        Assert.True(Tensor.Zeros(0).Equal(Tensor.Zeros(0)));
    }

    [Fact]
    public void Comparison_shape_mismatch_names_the_op_and_both_shapes()
    {
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Lt(Tensor.Zeros(3, 2)), "lt", "[2, 3]", "[3, 2]");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2).LogicalAnd(Tensor.Zeros(3)), "logical_and", "[2]", "[3]");
    }
}
