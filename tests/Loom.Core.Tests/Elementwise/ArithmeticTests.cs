namespace Loom.Tests.Elementwise;

public class ArithmeticTests
{
    public static TheoryData<string> BinaryOps => ["add", "sub", "mul", "div", "pow", "minimum", "maximum"];

    private static Func<Tensor, Tensor, Tensor> Op(string name) => name switch
    {
        "add" => (a, b) => a.Add(b),
        "sub" => (a, b) => a.Sub(b),
        "mul" => (a, b) => a.Mul(b),
        "div" => (a, b) => a.Div(b),
        "pow" => (a, b) => a.Abs().Add(0.5).Pow(b),
        "minimum" => (a, b) => a.Minimum(b),
        "maximum" => (a, b) => a.Maximum(b),
        _ => throw new ArgumentException(name),
    };

    private static Func<double, double, double> Reference(string name, DType dtype) => name switch
    {
        "add" => (a, b) => a + b,
        "sub" => (a, b) => a - b,
        "mul" => (a, b) => a * b,
        "div" => (a, b) => a / b,
        // The op computes |a| + 0.5 in the tensor's dtype before the power; round the same way.
        "pow" => (a, b) => Math.Pow(dtype == DType.Float32 ? (float)(Math.Abs(a) + 0.5) : Math.Abs(a) + 0.5, b),
        "minimum" => Math.Min,
        "maximum" => Math.Max,
        _ => throw new ArgumentException(name),
    };

    [Theory, MemberData(nameof(BinaryOps))]
    public void Binary_op_matches_reference_on_odd_sizes_and_strided_inputs(string op)
    {
        foreach (var dtype in ElementwiseCheck.FloatTypes)
        {
            foreach (int n in TestTensors.OddSizes)
            {
                ElementwiseCheck.Binary(Op(op), Reference(op, dtype), dtype, [n], [n]);
                ElementwiseCheck.Binary(Op(op), Reference(op, dtype), dtype, [3, n], [3, n], stridedA: true);
            }
        }
    }

    [Theory, MemberData(nameof(BinaryOps))]
    public void Binary_op_broadcasts_like_numpy(string op)
    {
        foreach (var dtype in ElementwiseCheck.FloatTypes)
            foreach (var (a, b) in ElementwiseCheck.BroadcastShapes)
            {
                ElementwiseCheck.Binary(Op(op), Reference(op, dtype), dtype, a, b);
                ElementwiseCheck.Binary(Op(op), Reference(op, dtype), dtype, b, a);
            }
        // A strided operand against a broadcast one: gathered rows on one side, scalars on the other.
        ElementwiseCheck.Binary(Op(op), Reference(op, DType.Float32), DType.Float32, [4, 7], [4, 1], stridedA: true);
        var t = TestTensors.Uniform(5, -2, 2, DType.Float64, 6, 4).Transpose(0, 1);
        var row = TestTensors.Uniform(6, -2, 2, DType.Float64, 6);
        ElementwiseCheck.AssertBinary(Op(op), Reference(op, DType.Float64), t, row, 1e-12);
        ElementwiseCheck.AssertBinary(Op(op), Reference(op, DType.Float64), row.Expand(4, 6), t, 1e-12);
    }

    [Fact]
    public void Large_tensors_split_across_threads_give_the_same_answer()
    {
        // Above the parallel threshold: flat, scalar and bias-row paths each run on both threads.
        var a = TestTensors.Randn(1, DType.Float32, 600, 500);
        var b = TestTensors.Randn(2, DType.Float32, 600, 500);
        var bias = TestTensors.Randn(3, DType.Float32, 500);
        ElementwiseCheck.AssertBinary((x, y) => x.Add(y), (x, y) => x + y, a, b, 1e-6);
        ElementwiseCheck.AssertBinary((x, y) => x.Mul(y), (x, y) => x * y, a, bias, 1e-6);
        ElementwiseCheck.AssertBinary((x, y) => x.Sub(y), (x, y) => x - y, a.Transpose(0, 1), bias.Unsqueeze(1), 1e-6);
        ElementwiseCheck.AssertUnary(x => x.Mul(3), x => 3 * x, a, 1e-6, "scalar mul");
        ElementwiseCheck.AssertUnary(x => x.Exp(), Math.Exp, a.Transpose(0, 1), 2e-6, "strided exp");
    }

    [Theory]
    [InlineData(DType.Int32)]
    [InlineData(DType.Int64)]
    public void Integer_add_sub_mul_are_exact_and_keep_the_dtype(DType dtype)
    {
        foreach (var (a, b) in ElementwiseCheck.BroadcastShapes)
        {
            ElementwiseCheck.Binary((x, y) => x.Add(y), (x, y) => x + y, dtype, a, b, tol: 0);
            ElementwiseCheck.Binary((x, y) => x.Sub(y), (x, y) => x - y, dtype, a, b, tol: 0);
            ElementwiseCheck.Binary((x, y) => x.Mul(y), (x, y) => x * y, dtype, a, b, tol: 0);
        }
        var t = Tensor.FromArray(new long[] { 1, -2, 3 }).To(dtype);
        Assert.Equal(dtype, (t + t).DType);
        Assert.Equal(new long[] { 3, 0, 5 }, t.Add(2).ToArray<long>());
        Assert.Equal(new long[] { -1, 2, -3 }, (-t).ToArray<long>());
        Assert.Equal(new long[] { 1, -2, -7 }, (2 - t * t).ToArray<long>());
    }

    [Fact]
    public void Scalar_operands_follow_pytorch_type_rules()
    {
        var i = Tensor.FromArray(new int[] { 1, 2, 3 });
        Assert.Equal(DType.Int32, i.Add(2).DType);
        Assert.Equal(DType.Float32, i.Add(0.5).DType);
        Assert.Equal(new float[] { 1.5f, 2.5f, 3.5f }, i.Add(0.5).ToArray<float>());
        var d = Tensor.FromArray(new double[] { 1, 2 });
        Assert.Equal(DType.Float64, d.Mul(0.1).DType);
        var f = Tensor.FromArray(new float[] { 1, 2 });
        Assert.Equal(DType.Float64, f.Add(d).DType);
        Assert.Equal(DType.Float32, f.Add(Tensor.FromArray(new long[] { 1, 1 })).DType);
    }

    [Fact]
    public void Scalar_forms_and_operators_match_the_tensor_forms()
    {
        foreach (var dtype in ElementwiseCheck.FloatTypes)
        {
            double tol = ElementwiseCheck.Tol(dtype);
            ElementwiseCheck.Unary(x => x + 1.5, x => x + 1.5, dtype);
            ElementwiseCheck.Unary(x => 1.5 + x, x => x + 1.5, dtype);
            ElementwiseCheck.Unary(x => x - 1.5, x => x - 1.5, dtype);
            ElementwiseCheck.Unary(x => 1.5 - x, x => 1.5 - x, dtype);
            ElementwiseCheck.Unary(x => x * -2.5, x => x * -2.5, dtype);
            ElementwiseCheck.Unary(x => 0.25 * x, x => x * 0.25, dtype);
            ElementwiseCheck.Unary(x => x / 4, x => x / 4, dtype, tol: tol);
            ElementwiseCheck.Unary(x => 3 / x, x => 3 / x, dtype, 0.5, 4);
            ElementwiseCheck.Unary(x => -x, x => -x, dtype);
            ElementwiseCheck.Unary(x => x.Pow(3), x => x * x * x, dtype, tol: 4 * tol);
            ElementwiseCheck.Unary(x => x.Pow(0.5), Math.Sqrt, dtype, 0, 4);
            var a = TestTensors.Randn(1, dtype, 3, 4);
            var b = TestTensors.Randn(2, dtype, 4);
            TensorAssert.Close(a.Add(b), a + b, 0, 0);
            TensorAssert.Close(a.Sub(b), a - b, 0, 0);
            TensorAssert.Close(a.Mul(b), a * b, 0, 0);
            TensorAssert.Close(a.Div(b), a / b, 0, 0);
        }
    }

    [Fact]
    public void Minimum_and_maximum_propagate_nan()
    {
        var a = Tensor.FromArray(new float[] { float.NaN, 1, 2 });
        var b = Tensor.FromArray(new float[] { 0, float.NaN, 3 });
        Assert.Equal(new float[] { float.NaN, float.NaN, 3 }, a.Maximum(b).ToArray<float>());
        Assert.Equal(new float[] { float.NaN, float.NaN, 2 }, a.Minimum(b).ToArray<float>());
    }

    [Fact]
    public void Gradients_of_binary_ops_match_finite_differences()
    {
        var a = TestTensors.Param(1, 3, 4);
        var b = TestTensors.Param(2, 3, 4);
        TensorAssert.GradientsMatch(t => t[0].Add(t[1]), a, b);
        TensorAssert.GradientsMatch(t => t[0].Sub(t[1]), a, b);
        TensorAssert.GradientsMatch(t => t[0].Mul(t[1]), a, b);
        TensorAssert.GradientsMatch(t => t[0].Div(t[1].Abs().Add(0.5)), a, b);
        TensorAssert.GradientsMatch(t => t[0].Abs().Add(0.5).Pow(t[1]), a, b);
        TensorAssert.GradientsMatch(t => t[0].Minimum(t[1]), a, b);
        TensorAssert.GradientsMatch(t => t[0].Maximum(t[1]), a, b);
    }

    [Fact]
    public void Gradients_of_broadcast_inputs_are_reduced_to_their_shapes()
    {
        var col = TestTensors.Param(3, 3, 1);
        var row = TestTensors.Param(4, 1, 4);
        var vec = TestTensors.Param(5, 5);
        var big = TestTensors.Param(6, 2, 3, 5);
        var scalar = TestTensors.Param(7);
        foreach (Func<Tensor[], Tensor> f in new Func<Tensor[], Tensor>[]
        {
            t => t[0] + t[1], t => t[0] - t[1], t => t[0] * t[1], t => t[0] / t[1].Abs().Add(1),
            t => t[0].Abs().Add(0.5).Pow(t[1]), t => t[0].Minimum(t[1]), t => t[0].Maximum(t[1]),
        })
        {
            TensorAssert.GradientsMatch(f, col, row);
            TensorAssert.GradientsMatch(f, vec, big);
            TensorAssert.GradientsMatch(f, scalar, vec);
        }
    }

    [Fact]
    public void Reused_input_accumulates_both_gradients()
    {
        var x = TestTensors.Param(8, 4);
        TensorAssert.GradientsMatch(t => t[0] * t[0], x);
        TensorAssert.GradientsMatch(t => t[0] * t[0] - t[0] / (t[0].Abs() + 1), x);
        var y = Tensor.FromArray(new double[] { 1, -2, 3 }).RequiresGrad_();
        (y * y).Backward(Tensor.OnesLike(y));
        Assert.Equal(new double[] { 2, -4, 6 }, y.Grad!.ToArray<double>());
    }

    [Fact]
    public void Gradients_of_scalar_forms_match_finite_differences()
    {
        var x = TestTensors.Param(9, 2, 3);
        TensorAssert.GradientsMatch(t => t[0] + 2, x);
        TensorAssert.GradientsMatch(t => 2 - t[0], x);
        TensorAssert.GradientsMatch(t => t[0] * 3 - 1, x);
        TensorAssert.GradientsMatch(t => t[0] / 3, x);
        TensorAssert.GradientsMatch(t => 2 / (t[0].Abs() + 1), x);
        TensorAssert.GradientsMatch(t => t[0].Pow(3), x);
        TensorAssert.GradientsMatch(t => t[0].Abs().Add(0.1).Pow(-1.5), x);
        TensorAssert.GradientsMatch(t => -t[0], x);
    }

    [Fact]
    public void Ties_split_the_gradient_of_minimum_and_maximum_evenly()
    {
        var a = Tensor.FromArray(new double[] { 1, 2, 3 }).RequiresGrad_();
        var b = Tensor.FromArray(new double[] { 1, 5, 0 }).RequiresGrad_();
        a.Maximum(b).Backward(Tensor.Ones(new Shape(3), DType.Float64));
        Assert.Equal(new double[] { 0.5, 0, 1 }, a.Grad!.ToArray<double>());
        Assert.Equal(new double[] { 0.5, 1, 0 }, b.Grad!.ToArray<double>());
        a.Grad = b.Grad = null;
        a.Minimum(b).Backward(Tensor.Ones(new Shape(3), DType.Float64));
        Assert.Equal(new double[] { 0.5, 1, 0 }, a.Grad!.ToArray<double>());
        Assert.Equal(new double[] { 0.5, 0, 1 }, b.Grad!.ToArray<double>());
    }

    [Fact]
    public void Pow_gradients_at_zero_follow_pytorch()
    {
        // d/da aᵇ at b = 0 is 0 (not 0·a⁻¹ = NaN); d/db at a = 0 is 0 for b ≥ 0 (not aᵇ·ln 0).
        var a = Tensor.FromArray(new double[] { 0, 0, 2 }).RequiresGrad_();
        var b = Tensor.FromArray(new double[] { 0, 2, 0 }).RequiresGrad_();
        a.Pow(b).Backward(Tensor.Ones(new Shape(3), DType.Float64));
        Assert.Equal(new double[] { 0, 0, 0 }, a.Grad!.ToArray<double>());
        Assert.Equal(new double[] { 0, 0, Math.Log(2) }, b.Grad!.ToArray<double>());
        var x = Tensor.FromArray(new double[] { 0, 3 }).RequiresGrad_();
        x.Pow(0).Backward(Tensor.Ones(new Shape(2), DType.Float64));
        Assert.Equal(new double[] { 0, 0 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Mixed_dtypes_promote_and_gradients_return_in_each_input_dtype()
    {
        var a = TestTensors.Randn(1, DType.Float32, 3).RequiresGrad_();
        var b = TestTensors.Randn(2, DType.Float64, 3).RequiresGrad_();
        var y = a * b;
        Assert.Equal(DType.Float64, y.DType);
        y.Backward(Tensor.Ones(new Shape(3), DType.Float64));
        Assert.Equal(DType.Float32, a.Grad!.DType);
        Assert.Equal(DType.Float64, b.Grad!.DType);
        TensorAssert.Close(b.To(DType.Float32), a.Grad!, 1e-6);
    }

    [Fact]
    public void Shape_mismatch_names_the_op_and_both_shapes()
    {
        var a = Tensor.Zeros(2, 3);
        var b = Tensor.Zeros(4, 3);
        TensorAssert.Throws<ArgumentException>(() => a.Add(b), "add", "[2, 3]", "[4, 3]");
        TensorAssert.Throws<ArgumentException>(() => a.Mul(b), "mul", "[2, 3]", "[4, 3]");
        TensorAssert.Throws<ArgumentException>(() => _ = a / Tensor.Zeros(2), "div", "[2, 3]", "[2]");
        TensorAssert.Throws<ArgumentException>(() => a.Pow(Tensor.Zeros(3, 3)), "pow", "[2, 3]", "[3, 3]");
        TensorAssert.Throws<ArgumentException>(() => a.Maximum(b), "maximum", "[2, 3]", "[4, 3]");
        TensorAssert.Throws<ArgumentException>(() => a.Add(Tensor.Zeros(4, 1, 4)), "add: shapes [2, 3] and [4, 1, 4] cannot be broadcast together (dimension 2: 3 vs 4)");
    }

    [Theory]
    [InlineData(DType.Int32)]
    [InlineData(DType.Int64)]
    public void Integer_binary_ops_take_the_scalar_on_either_side(DType dtype)
    {
        // A one-element operand and a [6, 1] column against rows reach the operators' (scalar, span) and (span, scalar)
        // forms: the commutative ones swap their operands, integer pow loops over its scalar definition.
        foreach (var op in new[] { "add", "sub", "mul", "minimum", "maximum" })
            foreach (var (a, b) in new (int[], int[])[] { ([], [9]), ([1], [9]), ([6, 1], [6, 33]) })
            {
                ElementwiseCheck.Binary(Op(op), Reference(op, dtype), dtype, a, b);
                ElementwiseCheck.Binary(Op(op), Reference(op, dtype), dtype, b, a);
            }
        var bases = Tensor.FromArray(new long[] { -3, -2, -1, 0, 1, 2, 3 }).To(dtype);
        var exponents = Tensor.FromArray(new long[] { 0, 1, 2, 3, 5, -1 }, 6, 1).To(dtype);
        double Pow(double x, double y) => y >= 0 ? Math.Pow(x, y) : Math.Abs(x) == 1 ? Math.Pow(x, y) : 0;
        ElementwiseCheck.AssertBinary((x, y) => x.Pow(y), Pow, bases, exponents, 0);
        ElementwiseCheck.AssertBinary((x, y) => x.Pow(y), Pow, Tensor.Scalar(-2, dtype), exponents, 0);
        ElementwiseCheck.AssertBinary((x, y) => x.Pow(y), Pow, bases, Tensor.Scalar(3, dtype), 0);
    }

    [Fact]
    public void Integer_and_bool_arithmetic_follows_pytorch_and_refuses_what_it_refuses()
    {
        // The full table against PyTorch is TypePromotionTests; these are the cases issue 8 named.
        var i = Tensor.FromArray(new int[] { 1, 2 });
        Assert.Equal(DType.Float32, i.Div(i).DType);
        Assert.Equal(new float[] { 0.5f, 1 }, i.Div(2).ToArray<float>());
        Assert.Equal(new int[] { 1, 4 }, i.Pow(i).ToArray<int>());
        Assert.Equal(new int[] { 1, 2 }, i.Maximum(i).ToArray<int>());
        var u = Tensor.FromArray(new byte[] { 200, 2 });
        Assert.Equal(new byte[] { 144, 4 }, u.Add(u).ToArray<byte>()); // wraps, as uint8 does in PyTorch
        var m = Tensor.FromArray(new bool[] { true, false });
        Assert.Equal(new bool[] { true, false }, m.Mul(m).ToArray<bool>());
        TensorAssert.Throws<ArgumentException>(() => m.Sub(m), "sub", "bool");
        TensorAssert.Throws<ArgumentException>(() => m.Pow(m), "pow", "bool");
        TensorAssert.Throws<ArgumentException>(() => i.Pow(-1), "pow", "negative");
    }

    [Fact]
    public void NoGrad_and_inputs_without_grad_record_nothing()
    {
        var x = TestTensors.Param(1, 3);
        var c = Tensor.Ones(new Shape(3), DType.Float64);
        Assert.Null((c * c).GradFn);
        Assert.NotNull((x * c).GradFn);
        using (new NoGrad()) Assert.Null((x * c).GradFn);
    }
}
