namespace Loom.Tests.Losses;

/// <summary>The element-wise losses (MSE, L1, smooth L1, Huber, BCE, BCE with logits, KL divergence): fused kernels against the reference.</summary>
public class PointwiseLossTests
{
    /// <summary>A loss, its reference definition, and inputs in its domain (x, y as float64 of the given shape).</summary>
    public sealed record Case(
        Func<Tensor, Tensor, Reduction, Tensor> Loss,
        Func<double, double, double> Reference,
        Func<int, int[], (Tensor X, Tensor Y)> Inputs);

    private static (Tensor, Tensor) Normal(int seed, int[] shape) =>
        (TestTensors.Randn(seed, DType.Float64, shape).Mul(2), TestTensors.Randn(seed + 1, DType.Float64, shape));

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["mse"] = new((x, y, r) => Functional.MseLoss(x, y, r), ReferenceLosses.Mse, Normal),
        ["l1"] = new((x, y, r) => Functional.L1Loss(x, y, r), ReferenceLosses.L1, Normal),
        ["smooth_l1"] = new((x, y, r) => Functional.SmoothL1Loss(x, y, r, beta: 0.5), (x, y) => ReferenceLosses.SmoothL1(x, y, 0.5), Normal),
        ["smooth_l1_beta0"] = new((x, y, r) => Functional.SmoothL1Loss(x, y, r, beta: 0), ReferenceLosses.L1, Normal),
        ["huber"] = new((x, y, r) => Functional.HuberLoss(x, y, r, delta: 0.7), (x, y) => ReferenceLosses.Huber(x, y, 0.7), Normal),
        ["bce"] = new((x, y, r) => Functional.BinaryCrossEntropy(x, y, reduction: r), ReferenceLosses.Bce,
            (seed, shape) => (TestTensors.Uniform(seed, 0.02, 0.98, DType.Float64, shape), TestTensors.Uniform(seed + 1, 0, 1, DType.Float64, shape))),
        ["bce_logits"] = new((x, y, r) => Functional.BinaryCrossEntropyWithLogits(x, y, reduction: r), (x, y) => ReferenceLosses.BceWithLogits(x, y, 1),
            (seed, shape) => (TestTensors.Randn(seed, DType.Float64, shape).Mul(3), TestTensors.Uniform(seed + 1, 0, 1, DType.Float64, shape))),
        ["bce_logits_pos_weight"] = new(
            (x, y, r) => Functional.BinaryCrossEntropyWithLogits(x, y, posWeight: Tensor.Scalar(2.5, x.DType), reduction: r),
            (x, y) => ReferenceLosses.BceWithLogits(x, y, 2.5),
            (seed, shape) => (TestTensors.Randn(seed, DType.Float64, shape).Mul(3), TestTensors.Uniform(seed + 1, 0, 1, DType.Float64, shape))),
        ["kl_div"] = new((x, y, r) => Functional.KLDiv(x, y, ToKL(r)), ReferenceLosses.KLDiv,
            (seed, shape) => (TestTensors.Randn(seed, DType.Float64, shape), TestTensors.Uniform(seed + 1, 0.05, 1, DType.Float64, shape))),
        ["kl_div_log_target"] = new((x, y, r) => Functional.KLDiv(x, y, ToKL(r), logTarget: true), ReferenceLosses.KLDivLogTarget,
            (seed, shape) => (TestTensors.Randn(seed, DType.Float64, shape), TestTensors.Randn(seed + 1, DType.Float64, shape).Mul(0.5))),
    };

    private static KLDivReduction ToKL(Reduction r) => r switch
    {
        Reduction.None => KLDivReduction.None,
        Reduction.Sum => KLDivReduction.Sum,
        _ => KLDivReduction.Mean,
    };

    public static TheoryData<string, Reduction> CasesAndReductions()
    {
        var data = new TheoryData<string, Reduction>();
        foreach (var name in Cases.Keys)
            foreach (var r in new[] { Reduction.None, Reduction.Mean, Reduction.Sum })
                data.Add(name, r);
        return data;
    }

    private static double[] Expected(Case c, Tensor x, Tensor y, Reduction reduction)
    {
        var xs = x.ToArray<double>();
        var ys = y.ToArray<double>();
        return ReferenceLosses.Reduce(xs.Select((v, i) => c.Reference(v, ys[i])).ToArray(), reduction);
    }

    [Theory]
    [MemberData(nameof(CasesAndReductions))]
    public void Forward_matches_the_reference_on_odd_sizes_in_float32_and_float64(string name, Reduction reduction)
    {
        var c = Cases[name];
        foreach (int n in TestTensors.OddSizes)
        {
            var (x, y) = c.Inputs(n, [n]);
            var expected = Expected(c, x, y, reduction);
            TensorAssert.Close(expected, c.Loss(x, y, reduction).ToArray<double>(), 1e-12, 1e-12, $"{name} float64 n={n} ");
            var (x32, y32) = (x.To(DType.Float32), y.To(DType.Float32));
            // The reference sees the float32-rounded inputs, so only the kernel's own float arithmetic differs.
            var expected32 = Expected(c, x32, y32, reduction);
            var actual32 = c.Loss(x32, y32, reduction);
            Assert.Equal(DType.Float32, actual32.DType);
            TensorAssert.Close(expected32, actual32.ToArray<double>(), 2e-5, 2e-5, $"{name} float32 n={n} ");
        }
    }

    [Theory]
    [MemberData(nameof(CasesAndReductions))]
    public void Gradients_for_input_and_target_match_finite_differences(string name, Reduction reduction)
    {
        var c = Cases[name];
        var (x, y) = c.Inputs(7, [3, 4]);
        TensorAssert.GradientsMatch(t => c.Loss(t[0], t[1], reduction), x.RequiresGrad_(), y.RequiresGrad_());
    }

    [Theory]
    [MemberData(nameof(CasesAndReductions))]
    public void Float32_gradients_match_float64_gradients(string name, Reduction reduction)
    {
        var c = Cases[name];
        var (x, y) = c.Inputs(11, [5, 53]); // 265 elements: vector bodies and a tail
        var (x32, y32) = (x.To(DType.Float32).RequiresGrad_(), y.To(DType.Float32).RequiresGrad_());
        var (x64, y64) = (x32.Detach().To(DType.Float64).RequiresGrad_(), y32.Detach().To(DType.Float64).RequiresGrad_());
        var probe = TestTensors.Randn(3, DType.Float64, reduction == Reduction.None ? [5, 53] : []);
        c.Loss(x32, y32, reduction).Mul(probe.To(DType.Float32)).Sum().Backward();
        c.Loss(x64, y64, reduction).Mul(probe).Sum().Backward();
        TensorAssert.Close(x64.Grad!, x32.Grad!, 1e-5, 1e-4);
        TensorAssert.Close(y64.Grad!, y32.Grad!, 1e-5, 1e-4);
    }

    [Theory]
    [MemberData(nameof(CasesAndReductions))]
    public void Non_contiguous_and_broadcast_operands_give_the_loss_of_their_values(string name, Reduction reduction)
    {
        var c = Cases[name];
        var (x, _) = c.Inputs(5, [6, 9]);
        var (_, row) = c.Inputs(6, [1, 9]);
        var y = row.Expand(6, 9); // stride 0 along the rows
        var strided = TestTensors.NonContiguous(x);
        Assert.False(strided.IsContiguous);
        var expected = c.Loss(x.Contiguous(), y.Contiguous(), reduction);
        TensorAssert.Close(expected, c.Loss(strided, y, reduction), 0, 0);
    }

    [Fact]
    public void Every_vector_width_computes_the_same_losses_and_gradients()
    {
        var x = TestTensors.Uniform(1, 0.01, 0.99, DType.Float32, 263).ToArray<float>();
        var y = TestTensors.Uniform(2, 0, 1, DType.Float32, 263).ToArray<float>();
        var w = TestTensors.Uniform(3, 0.5, 2, DType.Float32, 263).ToArray<float>();
        var g = TestTensors.Randn(4, DType.Float32, 263).ToArray<float>();
        Compare(new MseLossOp());
        Compare(new L1LossOp());
        Compare(new SmoothL1LossOp(0.3));
        Compare(new HuberLossOp(0.2));
        Compare(new BceLossOp());
        Compare(new BceWithLogitsLossOp());
        Compare(new KLDivLossOp());
        Compare(new KLDivLogTargetLossOp());

        void Compare<TOp>(TOp op) where TOp : struct, IPointwiseLoss
        {
            var results = new List<float[]>();
            foreach (var width in new[] { VectorWidth.W512, VectorWidth.W256, VectorWidth.Scalar })
            {
                var loss = new float[x.Length];
                var dx = new float[x.Length];
                var dy = new float[x.Length];
                PointwiseLossKernels.Forward(x, y, w, [1.7f], loss, op, width);
                PointwiseLossKernels.Backward(x, y, w, [1.7f], g, dx, dy, op, width);
                results.Add([.. loss, .. dx, .. dy]);
            }
            // Only the hardware exp and log may differ, in the last ulp.
            TensorAssert.Close(results[0], results[1], 1e-6, 1e-6, $"{typeof(TOp).Name} 512 vs 256 ");
            TensorAssert.Close(results[0], results[2], 1e-6, 1e-6, $"{typeof(TOp).Name} 512 vs scalar ");
        }
    }

    [Fact]
    public void Kernels_match_the_reference_with_per_element_weight_aux_and_gradient()
    {
        var x = TestTensors.Randn(1, DType.Float64, 37).ToArray<double>();
        var y = TestTensors.Uniform(2, 0, 1, DType.Float64, 37).ToArray<double>();
        var w = TestTensors.Uniform(3, 0.5, 2, DType.Float64, 37).ToArray<double>();
        var pw = TestTensors.Uniform(4, 0.5, 3, DType.Float64, 37).ToArray<double>();
        var loss = new double[37];
        PointwiseLossKernels.Forward(x, y, w, pw, loss, new BceWithLogitsLossOp());
        var expected = x.Select((v, i) => w[i] * ReferenceLosses.BceWithLogits(v, y[i], pw[i])).ToArray();
        TensorAssert.Close(expected, loss, 1e-12, 1e-12);
        var xf = x.Select(v => (float)v).ToArray();
        var yf = y.Select(v => (float)v).ToArray();
        var lossF = new float[37];
        PointwiseLossKernels.Forward(xf, yf, w.Select(v => (float)v).ToArray(), pw.Select(v => (float)v).ToArray(), lossF, new BceWithLogitsLossOp());
        TensorAssert.Close(expected, lossF.Select(v => (double)v).ToArray(), 1e-5, 1e-5);
    }

    [Fact]
    public void Binary_cross_entropy_weight_broadcasts_and_gets_no_gradient()
    {
        var x = TestTensors.Uniform(1, 0.05, 0.95, DType.Float64, 3, 4).RequiresGrad_();
        var y = TestTensors.Uniform(2, 0, 1, DType.Float64, 3, 4).RequiresGrad_();
        var weight = TestTensors.Uniform(3, 0.5, 2, DType.Float64, 4).RequiresGrad_();
        var loss = Functional.BinaryCrossEntropy(x, y, weight, Reduction.None);
        var (xs, ys, ws) = (x.ToArray<double>(), y.ToArray<double>(), weight.ToArray<double>());
        TensorAssert.Close(xs.Select((v, i) => ws[i % 4] * ReferenceLosses.Bce(v, ys[i])).ToArray(), loss.ToArray<double>(), 1e-12, 1e-12);
        loss.Sum().Backward();
        Assert.Null(weight.Grad);
        TensorAssert.GradientsMatch(t => Functional.BinaryCrossEntropy(t[0], t[1], weight, Reduction.Mean), x, y);
    }

    [Fact]
    public void Pos_weight_applies_per_class_along_the_last_axis()
    {
        var x = TestTensors.Randn(1, DType.Float64, 5, 3).Mul(2).RequiresGrad_();
        var y = TestTensors.Uniform(2, 0, 1, DType.Float64, 5, 3).RequiresGrad_();
        var posWeight = Tensor.FromArray([0.5, 1.0, 4.0]);
        var weight = TestTensors.Uniform(3, 0.5, 2, DType.Float64, 5, 1);
        var loss = Functional.BinaryCrossEntropyWithLogits(x, y, weight, posWeight, Reduction.None);
        var (xs, ys, ws) = (x.ToArray<double>(), y.ToArray<double>(), weight.ToArray<double>());
        var expected = xs.Select((v, i) => ws[i / 3] * ReferenceLosses.BceWithLogits(v, ys[i], new[] { 0.5, 1.0, 4.0 }[i % 3])).ToArray();
        TensorAssert.Close(expected, loss.ToArray<double>(), 1e-12, 1e-12);
        TensorAssert.GradientsMatch(t => Functional.BinaryCrossEntropyWithLogits(t[0], t[1], weight, posWeight, Reduction.Sum), x, y);
    }

    [Fact]
    public void Bce_with_logits_is_exact_for_saturated_logits()
    {
        var x = Tensor.FromArray([100f, -100f, 100f, -100f, 0f]).RequiresGrad_();
        var y = Tensor.FromArray([0f, 1f, 1f, 0f, 1f]);
        var loss = Functional.BinaryCrossEntropyWithLogits(x, y, reduction: Reduction.None);
        TensorAssert.Close(new[] { 100, 100, 0, 0, Math.Log(2) }, loss.ToArray<double>(), 1e-6, 1e-6);
        loss.Sum().Backward();
        TensorAssert.Close(new[] { 1, -1, 0, 0, -0.5 }, x.Grad!.ToArray<double>(), 1e-6, 1e-6); // σ(x) − y
    }

    [Fact]
    public void Binary_cross_entropy_clamps_its_logs_at_minus_100()
    {
        var loss = Functional.BinaryCrossEntropy(Tensor.FromArray([0f, 1f, 0f, 1f]), Tensor.FromArray([1f, 0f, 0f, 1f]), reduction: Reduction.None);
        TensorAssert.Close(new double[] { 100, 100, 0, 0 }, loss.ToArray<double>(), 0, 0);
    }

    [Fact]
    public void KL_batchmean_divides_the_sum_by_the_batch_size()
    {
        var (x, y) = Cases["kl_div"].Inputs(1, [4, 5]);
        double sum = Functional.KLDiv(x, y, KLDivReduction.Sum).Item();
        Assert.Equal(sum / 4, Functional.KLDiv(x, y, KLDivReduction.BatchMean).Item(), 12);
        Assert.Equal(sum / 20, Functional.KLDiv(x, y, KLDivReduction.Mean).Item(), 12);
        TensorAssert.GradientsMatch(t => Functional.KLDiv(t[0], t[1], KLDivReduction.BatchMean), x.RequiresGrad_(), y.RequiresGrad_());
    }

    [Fact]
    public void KL_divergence_of_a_zero_target_probability_is_zero()
    {
        var loss = Functional.KLDiv(Tensor.FromArray([-1.5f, -0.2f]), Tensor.FromArray([0f, 1f]), KLDivReduction.None);
        TensorAssert.Close(new[] { 0, 0.2 }, loss.ToArray<double>(), 1e-7, 1e-6);
    }

    [Fact]
    public void Mean_of_an_empty_input_is_nan_and_its_sum_zero()
    {
        var empty = Tensor.Zeros(0, 3);
        Assert.True(double.IsNaN(Functional.MseLoss(empty, empty).Item()));
        Assert.Equal(0, Functional.MseLoss(empty, empty, Reduction.Sum).Item());
    }

    [Fact]
    public void Shape_and_dtype_mismatches_name_the_loss_and_both_shapes()
    {
        var a = Tensor.Zeros(2, 3);
        TensorAssert.Throws<ArgumentException>(() => Functional.MseLoss(a, Tensor.Zeros(3, 2)), "mse_loss", "[3, 2]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.L1Loss(a, Tensor.Zeros(2, 1)), "l1_loss", "[2, 1]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.HuberLoss(a, Tensor.Zeros(new Shape(2, 3), DType.Float64)), "huber_loss", "float64", "float32");
        TensorAssert.Throws<ArgumentException>(() => Functional.KLDiv(a, Tensor.Zeros(6)), "kl_div", "[6]", "[2, 3]");
        TensorAssert.Throws<NotSupportedException>(() => Functional.MseLoss(Tensor.Zeros(new Shape(2), DType.Int64), Tensor.Zeros(new Shape(2), DType.Int64)), "mse_loss", "int64");
    }

    [Fact]
    public void Bad_weights_and_probabilities_are_rejected_with_their_shapes()
    {
        var x = Tensor.Full(new Shape(2, 3), 0.5);
        TensorAssert.Throws<ArgumentException>(() => Functional.BinaryCrossEntropy(x, x, Tensor.Ones(2)), "binary_cross_entropy", "weight", "[2]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.BinaryCrossEntropyWithLogits(x, x, posWeight: Tensor.Ones(2, 1, 1)), "pos_weight", "[2, 1, 1]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.BinaryCrossEntropy(x.Add(1), x), "binary_cross_entropy", "[2, 3]", "[1.5, 1.5]");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => Functional.HuberLoss(x, x, delta: 0), "huber_loss", "delta");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => Functional.SmoothL1Loss(x, x, beta: -1), "smooth_l1_loss", "beta");
    }

    [Fact]
    public void An_in_place_change_to_the_input_after_forward_fails_backward()
    {
        var x = TestTensors.Randn(1, DType.Float32, 4).RequiresGrad_();
        var h = x.Mul(2);
        var loss = Functional.MseLoss(h, Tensor.Zeros(4));
        using (new Loom.Autograd.NoGrad()) h.AddInPlace(1);
        TensorAssert.Throws<InvalidOperationException>(() => loss.Backward(), "mse_loss", "in-place");
    }
}
