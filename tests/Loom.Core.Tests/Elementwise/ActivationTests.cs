using Xunit.Abstractions;

namespace Loom.Tests.Elementwise;

public class ActivationTests(ITestOutputHelper output)
{
    public static TheoryData<string> Activations => ["relu", "leaky_relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "softplus", "softplus_beta"];

    private static (Func<Tensor, Tensor> Op, Func<double, double> Reference) Case(string name) => name switch
    {
        "relu" => (x => x.Relu(), ReferenceElementwise.Relu),
        "leaky_relu" => (x => x.LeakyRelu(0.2), x => ReferenceElementwise.LeakyRelu(x, 0.2)),
        "gelu" => (x => x.Gelu(), ReferenceElementwise.Gelu),
        "gelu_tanh" => (x => x.Gelu(approximate: true), ReferenceElementwise.GeluTanh),
        "silu" => (x => x.Silu(), ReferenceElementwise.Silu),
        "sigmoid" => (x => x.Sigmoid(), ReferenceElementwise.Sigmoid),
        "tanh" => (x => x.Tanh(), Math.Tanh),
        "softplus" => (x => x.Softplus(), x => ReferenceElementwise.Softplus(x, 1, 20)),
        "softplus_beta" => (x => x.Softplus(2, 5), x => ReferenceElementwise.Softplus(x, 2, 5)),
        _ => throw new ArgumentException(name),
    };

    [Theory, MemberData(nameof(Activations))]
    public void Activation_matches_reference_on_odd_sizes_and_strided_inputs(string name)
    {
        var (op, reference) = Case(name);
        foreach (var dtype in ElementwiseCheck.FloatTypes)
        {
            ElementwiseCheck.Unary(op, reference, dtype, -6, 6);
            ElementwiseCheck.Unary(op, reference, dtype, -30, 30, tol: dtype == DType.Float32 ? 4e-6 : 1e-12);
        }
    }

    [Theory, MemberData(nameof(Activations))]
    public void Activation_gradient_matches_finite_differences(string name)
    {
        var (op, _) = Case(name);
        // Away from relu's kink, where finite differences are meaningless.
        var x = TestTensors.Param(11, 3, 5);
        using (new Loom.Autograd.NoGrad()) x.AddInPlace(x.Sign01().Mul(0.05));
        TensorAssert.GradientsMatch(t => op(t[0]), x);
        // Large magnitudes reach softplus's linear regime and the saturated tails.
        var wide = TestTensors.Uniform(12, -25, 25, DType.Float64, 8).RequiresGrad_();
        TensorAssert.GradientsMatch(t => op(t[0]), wide);
    }

    [Theory, MemberData(nameof(Activations))]
    public void Fused_backward_matches_the_reference_derivative_in_float32(string name)
    {
        var (op, reference) = Case(name);
        foreach (int n in TestTensors.OddSizes)
        {
            var x = TestTensors.Uniform(n + 3, -5, 5, DType.Float32, n).RequiresGrad_();
            var g = TestTensors.Randn(n + 4, DType.Float32, n);
            op(x).Backward(g);
            var xs = x.ToArray<double>();
            var gs = g.ToArray<double>();
            var expected = new double[n];
            for (int i = 0; i < n; i++)
            {
                const double h = 1e-5;
                double v = xs[i];
                double slope = name == "relu" ? (v > 0 ? 1 : 0) : (reference(v + h) - reference(v - h)) / (2 * h);
                expected[i] = gs[i] * slope;
            }
            TensorAssert.Close(expected, x.Grad!.ToArray<double>(), 2e-5, 1e-4, $"size {n} ");
        }
    }

    [Fact]
    public void Relu_gradient_at_zero_is_zero()
    {
        var x = Tensor.FromArray(new double[] { -1, 0, 2 }).RequiresGrad_();
        x.Relu().Backward(Tensor.Ones(new Shape(3), DType.Float64));
        Assert.Equal(new double[] { 0, 0, 1 }, x.Grad!.ToArray<double>());
        var f = Tensor.FromArray(new float[] { float.NaN, -0f, 3 });
        var y = f.Relu().ToArray<float>();
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(0f, y[1]);
    }

    [Fact]
    public void Softplus_switches_to_identity_above_the_threshold()
    {
        var x = Tensor.FromArray(new double[] { 10.5, 9.5 }).RequiresGrad_();
        var y = x.Softplus(beta: 2, threshold: 20);
        Assert.Equal(10.5, y.GetDouble(0));
        Assert.Equal(Math.Log(1 + Math.Exp(19)) / 2, y.GetDouble(1), 12);
        y.Backward(Tensor.Ones(new Shape(2), DType.Float64));
        Assert.Equal(1.0, x.Grad!.GetDouble(0));
        TensorAssert.Throws<ArgumentException>(() => x.Softplus(beta: 0), "softplus", "beta");
    }

    [Fact]
    public void Gelu_negative_tail_keeps_relative_accuracy()
    {
        // 1 + erf(x/√2) cancels for x ≪ 0; the kernel evaluates the lower tail Φ(−|x|) directly.
        var x = Tensor.FromArray(new float[] { -5, -7, -9, -11, -12 }); // below −12.7 results are subnormal
        var expected = x.ToArray<double>().Select(ReferenceElementwise.Gelu).ToArray();
        TensorAssert.Close(expected, x.Gelu().ToArray<double>(), 0, 5e-7);
        Assert.Equal(float.PositiveInfinity, Tensor.FromArray(new[] { float.PositiveInfinity }).Gelu().Item());
        Assert.Equal(0.0, Tensor.FromArray(new[] { -200f }).Gelu().Item());
        // gelu(−0) = −0·Φ(0) = −0, as PyTorch: the sign of zero survives max(x, 0) − |x|·Φ(−|x|).
        Assert.True(float.IsNegative(Tensor.FromArray(new[] { -0f }).Gelu().Item<float>()));
        // Past the tail's end (|x| > 14.5) the gradient is its limit, Φ(x) exactly; at ±∞ and for gelu(−∞) it is
        // PyTorch's NaN (∞·0 in x·φ(x) and x·Φ(x)).
        var ends = Tensor.FromArray(new[] { -200f, 200f, float.NegativeInfinity, float.PositiveInfinity }).RequiresGrad_();
        var y = ends.Gelu();
        Assert.Equal(new[] { 0f, 200f, float.NaN, float.PositiveInfinity }, y.ToArray<float>());
        y.Backward(Tensor.Ones(new Shape(4)));
        Assert.Equal(new[] { 0f, 1f, float.NaN, float.NaN }, ends.Grad!.ToArray<float>());
    }

    [Fact]
    public void Float_erf_is_within_two_ulp_everywhere()
    {
        // A dense sweep covering both polynomial pieces, their joint, the saturation and tiny arguments.
        var values = new List<float>();
        for (float v = -6f; v <= 6f; v += 1f / 1024) values.Add(v);
        for (float v = 1e-30f; v < 1; v *= 3.7f) { values.Add(v); values.Add(-v); }
        var x = Tensor.FromArray(values.ToArray());
        var actual = x.Erf().ToArray<float>();
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            // The double erf is the oracle here (it is checked against the integral definition below): the
            // integral itself is too slow for 12K points.
            double exact = ActivationKernels.Erf(values[i]);
            double ulp = Math.Max(Math.Abs(MathF.BitIncrement((float)exact) - (float)exact), float.Epsilon);
            Assert.True(Math.Abs(actual[i] - exact) <= 2 * ulp, $"erf({values[i]:R}) = {actual[i]:R}, exact {exact:R}");
            worst = Math.Max(worst, Math.Abs(actual[i] - exact) / ulp);
        }
        output.WriteLine($"erf within {worst:F2} ulp");
    }

    [Fact]
    public void Float_gelu_and_its_gradient_are_within_a_few_ulp_everywhere()
    {
        // Every 1/256 from −14 to 14 (both tails, down to subnormal results), tiny arguments, on every width. The
        // oracle is the double Φ (checked against the integral definition below).
        var values = new List<float>();
        for (float v = -14f; v <= 14f; v += 1f / 256) values.Add(v);
        for (float v = 1e-30f; v < 1; v *= 3.7f) { values.Add(v); values.Add(-v); }
        var x = values.ToArray();
        var ones = Enumerable.Repeat(1f, x.Length).ToArray();
        float[]? first = null, firstGradient = null;
        foreach (var width in new[] { VectorWidth.W512, VectorWidth.W256, VectorWidth.Scalar })
        {
            var y = new float[x.Length];
            var dx = new float[x.Length];
            ActivationKernels.Apply(x, y, new ActivationKernels.Gelu(), width);
            ActivationKernels.Apply(ones, x, dx, new ActivationKernels.GeluBackward(), width);
            // IEEE operations and Loom's own exp only: every width gives the same bits.
            Assert.Equal(first ??= y, y);
            Assert.Equal(firstGradient ??= dx, dx);
            double worstForward = 0, worstBackward = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double v = x[i], cdf = ActivationKernels.NormalCdf(v), pdf = Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI);
                if (Math.Abs(v * cdf) < 1.2e-38)
                {
                    // Subnormal results: exp(−x²/2) is already subnormal and has lost its low bits.
                    Assert.True(Math.Abs(y[i] - v * cdf) <= 8 * float.Epsilon, $"{width}: gelu({v:R}) = {y[i]:R}, exact {v * cdf:R}");
                    continue;
                }
                double forward = Math.Abs(y[i] - v * cdf) / Ulp(v * cdf);
                // The gradient Φ + x·φ cancels near its zero (x ≈ −0.75): errors are measured against its terms' size.
                double backward = Math.Abs(dx[i] - (cdf + v * pdf)) / Ulp(cdf + Math.Abs(v) * pdf);
                Assert.True(forward <= 4, $"{width}: gelu({v:R}) = {y[i]:R}, exact {v * cdf:R} ({forward:F1} ulp)");
                Assert.True(backward <= 4, $"{width}: gelu'({v:R}) = {dx[i]:R}, exact {cdf + v * pdf:R} ({backward:F1} ulp)");
                worstForward = Math.Max(worstForward, forward);
                worstBackward = Math.Max(worstBackward, backward);
            }
            output.WriteLine($"{width}: gelu within {worstForward:F2} ulp, its gradient within {worstBackward:F2} ulp of the terms' size");
        }

        // The spacing of floats at |value|, the smallest subnormal spacing below float's normal range.
        static double Ulp(double value)
        {
            float f = (float)Math.Abs(value);
            return Math.Max(MathF.BitIncrement(f) - f, float.Epsilon);
        }
    }

    [Fact]
    public void Float_gelu_is_accurate_on_both_sides_of_every_interval_edge_of_its_tail_fit()
    {
        // Φ(−|x|)'s fit changes polynomial where z + 1 crosses a quarter of an octave (z = 0.25, 0.5, … 1, 1.5, … 3,
        // 4, … 7, 9, 11, 13). z + 1 is rounded, so a z one ulp from an edge may take either neighbour's polynomial:
        // both must hold there. The sweep of the test above steps over these neighbours.
        double[] edges = [0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 9, 11, 13];
        var values = new List<float>();
        foreach (double edge in edges)
        {
            float e = (float)edge;
            for (float v = e, k = 0; k < 4; k++, v = MathF.BitDecrement(v)) values.AddRange([v, -v]);
            for (float v = MathF.BitIncrement(e), k = 0; k < 4; k++, v = MathF.BitIncrement(v)) values.AddRange([v, -v]);
        }
        var x = values.ToArray();
        var ones = Enumerable.Repeat(1f, x.Length).ToArray();
        var y = new float[x.Length];
        var dx = new float[x.Length];
        ActivationKernels.Apply(x, y, new ActivationKernels.Gelu());
        ActivationKernels.Apply(ones, x, dx, new ActivationKernels.GeluBackward());
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i], cdf = ActivationKernels.NormalCdf(v), pdf = Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI);
            double ulp = MathF.BitIncrement((float)Math.Abs(v * cdf)) - (float)Math.Abs(v * cdf);
            double gradientUlp = MathF.BitIncrement((float)(cdf + Math.Abs(v) * pdf)) - (float)(cdf + Math.Abs(v) * pdf);
            Assert.True(Math.Abs(y[i] - v * cdf) <= 4 * ulp, $"gelu({v:R}) = {y[i]:R}, exact {v * cdf:R}");
            Assert.True(Math.Abs(dx[i] - (cdf + v * pdf)) <= 4 * gradientUlp, $"gelu'({v:R}) = {dx[i]:R}, exact {cdf + v * pdf:R}");
        }
    }

    [Fact]
    public void Double_erf_matches_the_integral_definition_to_1e_12()
    {
        for (double v = -7; v <= 7; v += 0.0371)
        {
            Assert.Equal(ReferenceElementwise.Erf(v), ActivationKernels.Erf(v), 1e-13);
            double c = ReferenceElementwise.Erfc(v);
            Assert.True(Math.Abs(ActivationKernels.Erfc(v) - c) <= 1e-12 * c, $"erfc({v}) = {ActivationKernels.Erfc(v):R}, reference {c:R}");
        }
        // Known values (30-digit references).
        Assert.Equal(0.842700792949714869, ActivationKernels.Erf(1), 15);
        Assert.True(Math.Abs(ActivationKernels.Erfc(5) / 1.53745979442803485e-12 - 1) < 1e-13);
    }

    [Theory]
    [InlineData("W256")]
    [InlineData("Scalar")]
    public void Narrower_vector_paths_give_the_same_answers(string path)
    {
        var width = Enum.Parse<VectorWidth>(path);
        var x = TestTensors.Uniform(1, -8, 8, DType.Float32, 257).ToArray<float>();
        var g = TestTensors.Randn(2, DType.Float32, 257).ToArray<float>();
        Compare(new ActivationKernels.Gelu());
        Compare(new ActivationKernels.GeluTanh());
        Compare(new ActivationKernels.Silu());
        Compare(new ActivationKernels.Softplus(1, 20));
        Compare(new ActivationKernels.LeakyRelu(0.1));
        Compare(new ActivationKernels.ErfFunction());
        CompareBackward(new ActivationKernels.GeluBackward());
        CompareBackward(new ActivationKernels.SiluBackward());
        CompareBackward(new ActivationKernels.SoftplusBackward(1, 20));
        CompareBackward(new ActivationKernels.ReluBackward());

        void Compare<TOp>(TOp op) where TOp : struct, IActivation
        {
            var wide = new float[x.Length];
            var narrow = new float[x.Length];
            ActivationKernels.Apply(x, wide, op, VectorWidth.Auto);
            ActivationKernels.Apply(x, narrow, op, width);
            TensorAssert.Close(wide, narrow, 1e-7, 4e-7, typeof(TOp).Name + " ");
        }

        void CompareBackward<TOp>(TOp op) where TOp : struct, IActivationBackward
        {
            var wide = new float[x.Length];
            var narrow = new float[x.Length];
            ActivationKernels.Apply(g, x, wide, op, VectorWidth.Auto);
            ActivationKernels.Apply(g, x, narrow, op, width);
            TensorAssert.Close(wide, narrow, 1e-7, 4e-7, typeof(TOp).Name + " ");
        }
    }

    [Fact]
    public void Streaming_stores_give_the_same_answers_at_every_alignment()
    {
        var x = TestTensors.Uniform(7, -6, 6, DType.Float32, 300).ToArray<float>();
        foreach (int start in new[] { 0, 1, 3, 15, 16, 17 })
        {
            foreach (int n in TestTensors.OddSizes.Where(n => start + n <= x.Length))
            {
                var source = x.AsSpan(start, n);
                var plain = new float[n];
                var streamed = new float[n + 20];
                ActivationKernels.Apply(source, plain, new ActivationKernels.Gelu(), VectorWidth.Auto, streaming: false);
                ActivationKernels.Apply(source, streamed.AsSpan(start % 5, n), new ActivationKernels.Gelu(), VectorWidth.Auto, streaming: true);
                Assert.Equal(plain, streamed.AsSpan(start % 5, n).ToArray());
                Assert.All(streamed.AsSpan(start % 5 + n).ToArray(), v => Assert.Equal(0f, v));
            }
        }
    }

    [Fact]
    public void In_place_activation_kernel_may_alias_its_input()
    {
        var x = TestTensors.Uniform(3, -3, 3, DType.Float32, 37).ToArray<float>();
        var expected = new float[x.Length];
        ActivationKernels.Apply(x, expected, new ActivationKernels.Gelu());
        ActivationKernels.Apply(x, x, new ActivationKernels.Gelu());
        Assert.Equal(expected, x);
    }

    [Fact]
    public void Activate_applies_each_fused_activation_as_its_tensor_op()
    {
        var x = Tensor.FromArray(new[] { -3f, -0.5f, 0f, 0.25f, 2f, 9f });
        Assert.Same(x, Functional.Activate(x, Activation.None));
        var ops = new (Activation Kind, Func<Tensor, Tensor> Op)[]
        {
            (Activation.Relu, t => t.Relu()), (Activation.Gelu, t => t.Gelu()), (Activation.GeluTanh, t => t.Gelu(approximate: true)),
            (Activation.Silu, t => t.Silu()), (Activation.Sigmoid, t => t.Sigmoid()), (Activation.Tanh, t => t.Tanh()),
        };
        Assert.Equal(Enum.GetValues<Activation>().Length - 1, ops.Length); // every activation but None is listed here
        foreach (var (kind, op) in ops) Assert.Equal(op(x).ToArray<float>(), Functional.Activate(x, kind).ToArray<float>());
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Activate(x, (Activation)99));
    }

    [Fact]
    public void Activations_other_than_relu_refuse_integer_tensors()
    {
        var i = Tensor.FromArray(new int[] { 1, -1 });
        Assert.Equal(new int[] { 1, 0 }, i.Relu().ToArray<int>()); // as torch.relu on integers
        TensorAssert.Throws<NotSupportedException>(() => i.Gelu(), "gelu", "int32");
        TensorAssert.Throws<NotSupportedException>(() => i.Sigmoid(), "sigmoid", "int32");
    }

    [Fact]
    public void Large_activation_runs_on_threads_with_the_same_answer()
    {
        var x = TestTensors.Uniform(4, -6, 6, DType.Float32, 700, 400).RequiresGrad_();
        var y = x.Gelu();
        // The double-precision gelu is the oracle at this size (the reference integral would take half a minute).
        ElementwiseCheck.AssertUnary(t => t.Detach().Gelu(), v => v * ActivationKernels.NormalCdf(v), x.Detach(), 2e-6, "gelu 280K");
        var g = TestTensors.Randn(5, DType.Float32, 700, 400);
        y.Backward(g);
        var xs = x.ToArray<double>();
        var gs = g.ToArray<double>();
        var e = new double[xs.Length];
        for (int i = 0; i < e.Length; i++)
            e[i] = gs[i] * (ActivationKernels.NormalCdf(xs[i]) + xs[i] * Math.Exp(-0.5 * xs[i] * xs[i]) / Math.Sqrt(2 * Math.PI));
        TensorAssert.Close(e, x.Grad!.ToArray<double>(), 1e-5, 1e-5);
    }
}

internal static class ActivationTestExtensions
{
    /// <summary>+1 where x ≥ 0, −1 elsewhere: nudges values away from 0.</summary>
    public static Tensor Sign01(this Tensor x) => x.Ge(0).To(x.DType).Mul(2).Sub(1);
}
