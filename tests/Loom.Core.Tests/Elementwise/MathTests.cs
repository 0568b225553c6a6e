namespace Loom.Tests.Elementwise;

public class MathTests
{
    public static TheoryData<string> UnaryOps => ["neg", "abs", "sqrt", "rsqrt", "exp", "log", "square", "reciprocal", "sin", "cos", "erf"];

    private static (Func<Tensor, Tensor> Op, Func<double, double> Reference, double Low, double High) Case(string name) => name switch
    {
        "neg" => (x => x.Neg(), x => -x, -4, 4),
        "abs" => (x => x.Abs(), Math.Abs, -4, 4),
        "sqrt" => (x => x.Sqrt(), Math.Sqrt, 0, 9),
        "rsqrt" => (x => x.Rsqrt(), x => 1 / Math.Sqrt(x), 0.01, 9),
        "exp" => (x => x.Exp(), Math.Exp, -10, 10),
        "log" => (x => x.Log(), Math.Log, 0.001, 100),
        "square" => (x => x.Square(), x => x * x, -4, 4),
        "reciprocal" => (x => x.Reciprocal(), x => 1 / x, 0.1, 5),
        "sin" => (x => x.Sin(), Math.Sin, -6, 6),
        "cos" => (x => x.Cos(), Math.Cos, -6, 6),
        "erf" => (x => x.Erf(), ReferenceElementwise.Erf, -5, 5),
        _ => throw new ArgumentException(name),
    };

    [Theory, MemberData(nameof(UnaryOps))]
    public void Unary_op_matches_reference_on_odd_sizes_and_strided_inputs(string op)
    {
        var (f, reference, low, high) = Case(op);
        foreach (var dtype in ElementwiseCheck.FloatTypes)
            ElementwiseCheck.Unary(f, reference, dtype, low, high);
    }

    [Theory, MemberData(nameof(UnaryOps))]
    public void Unary_op_gradient_matches_finite_differences(string op)
    {
        var (f, _, low, high) = Case(op);
        // Keep away from the kink of abs and from the edges of each domain.
        var x = TestTensors.Uniform(3, Math.Max(low, 0.05), Math.Min(high, 3), DType.Float64, 2, 3);
        var y = TestTensors.Uniform(4, Math.Max(low, -3), Math.Min(high, -0.05), DType.Float64, 2, 3);
        var t = low < 0 ? Tensor.Where(TestTensors.Randn(5, DType.Float64, 2, 3).Gt(0), x, y) : x;
        TensorAssert.GradientsMatch(v => f(v[0]), t.Clone().RequiresGrad_());
    }

    [Fact]
    public void Abs_gradient_at_zero_is_zero()
    {
        var x = Tensor.FromArray(new double[] { -2, 0, 3 }).RequiresGrad_();
        x.Abs().Backward(Tensor.Ones(new Shape(3), DType.Float64));
        Assert.Equal(new double[] { -1, 0, 1 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Clamp_limits_values_and_keeps_nan()
    {
        foreach (var dtype in ElementwiseCheck.FloatTypes)
        {
            ElementwiseCheck.Unary(x => x.Clamp(-1, 2), x => Math.Min(Math.Max(x, -1), 2), dtype);
            ElementwiseCheck.Unary(x => x.Clamp(min: 0.5), x => Math.Max(x, 0.5), dtype);
            ElementwiseCheck.Unary(x => x.Clamp(max: 0.5), x => Math.Min(x, 0.5), dtype);
        }
        var t = Tensor.FromArray(new float[] { float.NaN, -5, 5 });
        Assert.Equal(new float[] { float.NaN, -1, 1 }, t.Clamp(-1, 1).ToArray<float>());
        // min > max: everything becomes max, as in PyTorch.
        Assert.Equal(new float[] { 1, 1 }, Tensor.FromArray(new float[] { 0, 5 }).Clamp(3, 1).ToArray<float>());
    }

    [Fact]
    public void Clamp_gradient_passes_inside_and_on_the_boundary_only()
    {
        var x = Tensor.FromArray(new double[] { -2, -1, 0, 1, 2 }).RequiresGrad_();
        x.Clamp(-1, 1).Backward(Tensor.Ones(new Shape(5), DType.Float64));
        Assert.Equal(new double[] { 0, 1, 1, 1, 0 }, x.Grad!.ToArray<double>());
        TensorAssert.GradientsMatch(t => t[0].Clamp(-0.5, 0.7), TestTensors.Param(2, 3, 3));
    }

    [Fact]
    public void Clamp_without_bounds_is_an_error()
    {
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2, 2).Clamp(), "clamp", "[2, 2]");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2).Clamp(double.NaN), "clamp", "NaN");
    }

    [Fact]
    public void Float_only_ops_refuse_integer_tensors()
    {
        var i = Tensor.FromArray(new long[] { 1, 4 });
        TensorAssert.Throws<NotSupportedException>(() => i.Exp(), "exp", "int64");
        TensorAssert.Throws<NotSupportedException>(() => i.Sqrt(), "sqrt", "int64");
        Assert.Equal(new long[] { 1, 1 }, i.Clamp(0, 1).ToArray<long>()); // clamp is defined on integers (TypePromotionTests)
        Assert.Equal(new long[] { 1, 4 }, i.Neg().Abs().ToArray<long>());
    }

    [Fact]
    public void Saved_tensor_modified_in_place_makes_backward_fail_naming_the_version()
    {
        var x = TestTensors.Param(1, 4);
        var y = x.Exp();
        var z = y.Exp();
        using (new Loom.Autograd.NoGrad()) y.MulInPlace(2);
        var ex = TensorAssert.Throws<InvalidOperationException>(() => z.Backward(Tensor.OnesLike(z)), "exp", "in-place", "version");
        Assert.Contains("[4]", ex.Message);
    }
}
