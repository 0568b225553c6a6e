namespace Loom.Tests.Normalization;

public class NormalizationTests
{
    private static double[] Values(Tensor? t) => t?.ToArray<double>() ?? [];

    [Fact]
    public void Layer_norm_matches_the_reference_on_odd_sizes_with_and_without_affine()
    {
        foreach (int n in TestTensors.OddSizes)
        {
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            {
                double tol = dtype == DType.Float32 ? 1e-4 : 1e-10;
                var x = TestTensors.Randn(n, dtype, 3, 2, n);
                var w = TestTensors.Randn(n + 1, dtype, n);
                var b = TestTensors.Randn(n + 2, dtype, n);
                foreach (var input in new[] { x, TestTensors.NonContiguous(x) })
                {
                    var expected = new double[x.Numel];
                    ReferenceNorm.LayerNorm(x.ToArray<double>(), 6, n, Values(w), Values(b), 1e-5, expected);
                    TensorAssert.Close(expected, Functional.LayerNorm(input, [n], w, b).ToArray<double>(), tol, tol);
                    ReferenceNorm.LayerNorm(x.ToArray<double>(), 6, n, null, null, 1e-5, expected);
                    TensorAssert.Close(expected, Functional.LayerNorm(input, [n]).ToArray<double>(), tol, tol);
                    ReferenceNorm.RmsNorm(x.ToArray<double>(), 6, n, Values(w), 1e-6, expected);
                    TensorAssert.Close(expected, Functional.RmsNorm(input, [n], w, 1e-6).ToArray<double>(), tol, tol);
                }
            }
        }
    }

    [Fact]
    public void Layer_norm_over_several_trailing_dimensions_normalises_them_together()
    {
        var x = TestTensors.Randn(1, DType.Float64, 2, 3, 4);
        var expected = new double[24];
        ReferenceNorm.LayerNorm(x.ToArray<double>(), 2, 12, null, null, 1e-5, expected);
        TensorAssert.Close(expected, Functional.LayerNorm(x, [3, 4]).ToArray<double>(), 1e-12, 1e-12);
    }

    [Fact]
    public void Gradients_of_layer_norm_and_rms_norm_match_finite_differences()
    {
        var x = TestTensors.Param(1, 3, 5);
        var w = TestTensors.Param(2, 5);
        var b = TestTensors.Param(3, 5);
        TensorAssert.GradientsMatch(t => Functional.LayerNorm(t[0], [5], t[1], t[2]), x, w, b);
        TensorAssert.GradientsMatch(t => Functional.LayerNorm(t[0], [5]), x);
        TensorAssert.GradientsMatch(t => Functional.LayerNorm(t[0], [3, 5], null, null, 1e-3), x);
        TensorAssert.GradientsMatch(t => Functional.RmsNorm(t[0], [5], t[1]), x, w);
        TensorAssert.GradientsMatch(t => Functional.RmsNorm(t[0], [5]), x);
        // Only the weight needs a gradient.
        var frozen = TestTensors.Randn(4, DType.Float64, 3, 5);
        TensorAssert.GradientsMatch(t => Functional.LayerNorm(t[0], [5], t[1], t[2]), frozen, w, b);
    }

    [Fact]
    public void A_norm_on_a_residual_stream_adds_the_stream_gradient_into_its_own()
    {
        // x feeds the norm and an add (a pre-norm block); the norm's backward takes the add's gradient for x and sums
        // it in its kernel instead of the engine. x is not a leaf, and is used once more after the norm.
        var a = TestTensors.Param(8, 3, 5);
        var w = TestTensors.Param(9, 5);
        var b = TestTensors.Param(10, 5);
        TensorAssert.GradientsMatch(t => { var x = t[0].Mul(1.5); return x.Add(Functional.LayerNorm(x, [5], t[1], t[2])); }, a, w, b);
        TensorAssert.GradientsMatch(t => { var x = t[0].Mul(1.5); return Functional.LayerNorm(x, [5], t[1], t[2]).Add(x).Mul(x); }, a, w, b);
        TensorAssert.GradientsMatch(t => { var x = t[0].Tanh(); return x.Add(Functional.RmsNorm(x, [5], t[1])); }, a, w);
        // The norm of a norm: the inner one's input feeds nothing else.
        TensorAssert.GradientsMatch(t => { var x = t[0].Mul(2); var h = x.Add(Functional.LayerNorm(x, [5])); return h.Add(Functional.LayerNorm(h, [5], t[1], t[2])); }, a, w, b);
        // The same sum in float32 as the engine's: equal to the gradient with the stream's contribution added by hand.
        var x32 = TestTensors.Randn(11, DType.Float32, 64, 40);
        var w32 = TestTensors.Randn(12, DType.Float32, 40);
        var up = TestTensors.Randn(13, DType.Float32, 64, 40);
        var leaf = x32.Detach().RequiresGrad_();
        var y = leaf.Mul(1f);
        y.Add(Functional.LayerNorm(y, [40], w32)).Mul(up).Sum().Backward();
        var alone = x32.Detach().RequiresGrad_();
        Functional.LayerNorm(alone.Mul(1f), [40], w32).Mul(up).Sum().Backward();
        Assert.Equal(up.Add(alone.Grad!).ToArray<float>(), leaf.Grad!.ToArray<float>());
    }

    [Fact]
    public void Layer_norm_weight_gradients_accumulate_across_many_rows()
    {
        // Enough rows to be split over threads: the per-thread partial sums must add up.
        var x = TestTensors.Randn(5, DType.Float64, 4096, 16);
        var w = TestTensors.Param(6, 16);
        var b = TestTensors.Param(7, 16);
        Functional.LayerNorm(x, [16], w, b).Sum().Backward();
        TensorAssert.Close(Enumerable.Repeat(4096.0, 16).ToArray(), b.Grad!.ToArray<double>(), 1e-9, 1e-12);
        var expected = new double[16];
        var normed = Functional.LayerNorm(x, [16]).ToArray<double>();
        for (int i = 0; i < normed.Length; i++) expected[i % 16] += normed[i];
        TensorAssert.Close(expected, w.Grad!.ToArray<double>(), 1e-9, 1e-9);
    }

    [Fact]
    public void Batch_norm_in_training_matches_the_reference_and_updates_running_statistics()
    {
        foreach (var shape in new[] { new[] { 8, 3 }, new[] { 4, 3, 5, 2 } })
        {
            var x = TestTensors.Randn(8, DType.Float32, shape);
            int n = shape[0], c = shape[1], s = x.Numel / (n * c);
            var w = TestTensors.Randn(9, DType.Float32, c);
            var b = TestTensors.Randn(10, DType.Float32, c);
            var runningMean = Tensor.Zeros(new Shape(c));
            var runningVar = Tensor.Ones(new Shape(c));
            var expected = new double[x.Numel];
            var (mean, unbiased) = ReferenceNorm.BatchNorm(x.ToArray<double>(), n, c, s, null, null, Values(w), Values(b), 1e-5, expected);
            var y = Functional.BatchNorm(TestTensors.NonContiguous(x), runningMean, runningVar, w, b, training: true);
            TensorAssert.Close(expected, y.ToArray<double>(), 1e-5, 1e-5);
            // One step with momentum 0.1 from (0, 1): 0.1 · batch mean and 0.9 + 0.1 · unbiased batch variance.
            TensorAssert.Close(mean.Select(v => 0.1 * v).ToArray(), runningMean.ToArray<double>(), 1e-6, 1e-6);
            TensorAssert.Close(unbiased.Select(v => 0.9 + 0.1 * v).ToArray(), runningVar.ToArray<double>(), 1e-6, 1e-6);
            Assert.Equal(1, runningMean.Storage.Version); // the in-place update is visible to autograd's version check
        }
    }

    [Fact]
    public void Batch_norm_running_statistics_after_one_step_are_exact_on_a_hand_example()
    {
        // Channel 0 sees 1, 3 (mean 2, unbiased var 2); channel 1 sees 2, 6 (mean 4, unbiased var 8).
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 6 }, 2, 2);
        var rm = Tensor.FromArray(new double[] { 0, 10 });
        var rv = Tensor.FromArray(new double[] { 1, 1 });
        var y = Functional.BatchNorm(x, rm, rv, training: true, momentum: 0.1, eps: 0);
        TensorAssert.Close(new double[] { 0.2, 9.4 }, rm.ToArray<double>(), 1e-15, 0);
        TensorAssert.Close(new double[] { 1.1, 1.7 }, rv.ToArray<double>(), 1e-15, 0);
        TensorAssert.Close(new double[] { -1, -1, 1, 1 }, y.ToArray<double>(), 1e-15, 0);
    }

    [Fact]
    public void Batch_norm_in_evaluation_uses_the_running_statistics()
    {
        var x = TestTensors.Randn(11, DType.Float64, 4, 3, 7);
        var rm = TestTensors.Randn(12, DType.Float64, 3);
        var rv = TestTensors.Uniform(13, 0.5, 2, DType.Float64, 3);
        var w = TestTensors.Randn(14, DType.Float64, 3);
        var expected = new double[x.Numel];
        ReferenceNorm.BatchNorm(x.ToArray<double>(), 4, 3, 7, Values(rm), Values(rv), Values(w), null, 1e-5, expected);
        var before = rm.ToArray<double>();
        TensorAssert.Close(expected, Functional.BatchNorm(x, rm, rv, w, training: false).ToArray<double>(), 1e-12, 1e-12);
        Assert.Equal(before, rm.ToArray<double>());
    }

    [Fact]
    public void Gradients_of_batch_norm_match_finite_differences_in_training_and_evaluation()
    {
        var w = TestTensors.Param(2, 3);
        var b = TestTensors.Param(3, 3);
        foreach (var shape in new[] { new[] { 4, 3 }, new[] { 2, 3, 2, 2 } })
        {
            var x = TestTensors.Param(1, shape);
            TensorAssert.GradientsMatch(t => Functional.BatchNorm(t[0], null, null, t[1], t[2], training: true), x, w, b);
            TensorAssert.GradientsMatch(t => Functional.BatchNorm(t[0], null, null, training: true), x);
            var rm = TestTensors.Randn(4, DType.Float64, 3);
            var rv = TestTensors.Uniform(5, 0.5, 2, DType.Float64, 3);
            TensorAssert.GradientsMatch(t => Functional.BatchNorm(t[0], rm, rv, t[1], t[2], training: false), x, w, b);
        }
    }

    [Theory]
    [InlineData(new[] { 3, 4, 5, 7 }, true)]   // 35 positions: whole vectors and a scalar tail in every row
    [InlineData(new[] { 2, 3, 4, 8 }, false)]  // evaluation: the running statistics normalise
    [InlineData(new[] { 6, 3 }, true)]         // [N, C]: one position per row
    public void Batch_norm_fused_with_relu_equals_batch_norm_then_relu(int[] shape, bool training)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            double tol = dtype == DType.Float32 ? 1e-5 : 1e-12;
            int c = shape[1];
            var x = TestTensors.Randn(1, dtype, shape);
            var dy = TestTensors.Randn(2, dtype, shape);
            var w = TestTensors.Randn(3, dtype, c);
            var b = TestTensors.Randn(4, dtype, c);
            (Tensor Y, Tensor Dx, Tensor Dw, Tensor Db, Tensor Mean, Tensor Var) Run(bool fused)
            {
                var (xs, ws, bs) = (x.Detach().RequiresGrad_(), w.Detach().RequiresGrad_(), b.Detach().RequiresGrad_());
                var mean = TestTensors.Randn(5, dtype, c);
                var variance = TestTensors.Uniform(6, 0.5, 2, dtype, c);
                var y = fused
                    ? Functional.BatchNorm(xs, mean, variance, ws, bs, training, 0.1, 1e-5, Activation.Relu)
                    : Functional.BatchNorm(xs, mean, variance, ws, bs, training, 0.1, 1e-5).Relu();
                y.Backward(dy);
                return (y, xs.Grad!, ws.Grad!, bs.Grad!, mean, variance);
            }
            var expected = Run(fused: false);
            var actual = Run(fused: true);
            TensorAssert.Close(expected.Y, actual.Y, tol, tol);
            TensorAssert.Close(expected.Dx, actual.Dx, tol, tol);
            TensorAssert.Close(expected.Dw, actual.Dw, tol, tol);
            TensorAssert.Close(expected.Db, actual.Db, tol, tol);
            TensorAssert.Close(expected.Mean, actual.Mean, tol, tol);
            TensorAssert.Close(expected.Var, actual.Var, tol, tol);
        }
    }

    [Fact]
    public void Fused_relu_passes_no_gradient_where_its_output_is_exactly_zero()
    {
        // Weight and bias zero: every output is relu(0) = 0, so ReLU's backward (threshold_backward) stops all of dy
        // and the scale and bias gradients are 0; a mask that let y = 0 through would give dw = Σ dy·x̂, db = Σ dy.
        var x = TestTensors.Randn(1, DType.Float64, 4, 3, 5);
        var w = Tensor.Zeros(new Shape(3), DType.Float64).RequiresGrad_();
        var b = Tensor.Zeros(new Shape(3), DType.Float64).RequiresGrad_();
        Functional.BatchNorm(x, null, null, w, b, true, 0.1, 1e-5, Activation.Relu).Backward(TestTensors.Randn(2, DType.Float64, 4, 3, 5));
        Assert.All(w.Grad!.ToArray<double>(), v => Assert.Equal(0.0, v));
        Assert.All(b.Grad!.ToArray<double>(), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Gradients_of_batch_norm_fused_with_relu_match_finite_differences()
    {
        var x = TestTensors.Param(1, 3, 3, 2, 3);
        var w = TestTensors.Param(2, 3);
        var b = TestTensors.Param(3, 3);
        TensorAssert.GradientsMatch(t => Functional.BatchNorm(t[0], null, null, t[1], t[2], true, 0.1, 1e-5, Activation.Relu), x, w, b);
        var rm = TestTensors.Randn(4, DType.Float64, 3);
        var rv = TestTensors.Uniform(5, 0.5, 2, DType.Float64, 3);
        TensorAssert.GradientsMatch(t => Functional.BatchNorm(t[0], rm, rv, t[1], t[2], false, 0.1, 1e-5, Activation.Relu), x, w, b);
        // Other activations are batch norm followed by their own op.
        TensorAssert.GradientsMatch(t => Functional.BatchNorm(t[0], null, null, t[1], t[2], true, 0.1, 1e-5, Activation.Tanh), x, w, b);
    }

    [Fact]
    public void Group_norm_matches_the_reference_and_its_gradients_match_finite_differences()
    {
        foreach (var (shape, groups) in new[] { (new[] { 2, 6, 5 }, 3), (new[] { 3, 4 }, 2), (new[] { 2, 4, 3, 3 }, 1), (new[] { 1, 4, 7 }, 4) })
        {
            var x = TestTensors.Randn(1, DType.Float32, shape);
            int n = shape[0], c = shape[1], s = x.Numel / (n * c);
            var w = TestTensors.Randn(2, DType.Float32, c);
            var b = TestTensors.Randn(3, DType.Float32, c);
            var expected = new double[x.Numel];
            ReferenceNorm.GroupNorm(x.ToArray<double>(), n, c, s, groups, Values(w), Values(b), 1e-5, expected);
            TensorAssert.Close(expected, Functional.GroupNorm(TestTensors.NonContiguous(x), groups, w, b).ToArray<double>(), 1e-5, 1e-5);
        }
        var xp = TestTensors.Param(4, 2, 6, 3);
        var wp = TestTensors.Param(5, 6);
        var bp = TestTensors.Param(6, 6);
        TensorAssert.GradientsMatch(t => Functional.GroupNorm(t[0], 3, t[1], t[2]), xp, wp, bp);
        TensorAssert.GradientsMatch(t => Functional.GroupNorm(t[0], 2), xp);
    }

    [Fact]
    public void Normalisation_arguments_are_checked_against_the_input_shape()
    {
        var x = Tensor.Zeros(2, 3, 4);
        TensorAssert.Throws<ArgumentException>(() => Functional.LayerNorm(x, [3]), "layer_norm", "[3]", "[2, 3, 4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.LayerNorm(x, [4], Tensor.Ones(3)), "layer_norm", "weight", "[3]", "[4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.RmsNorm(x, [2, 3, 4, 5]), "rms_norm", "[2, 3, 4, 5]");
        TensorAssert.Throws<ArgumentException>(() => Functional.GroupNorm(x, 2), "group_norm", "3 channels", "2", "[2, 3, 4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.BatchNorm(x, null, null, training: false), "batch_norm", "evaluation");
        TensorAssert.Throws<ArgumentException>(() => Functional.BatchNorm(Tensor.Zeros(1, 3), null, null, training: true), "batch_norm", "more than 1 value", "[1, 3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.BatchNorm(x, Tensor.Zeros(4), Tensor.Ones(4), training: true), "running_mean", "[4]", "[2, 3, 4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.BatchNorm(Tensor.Zeros(5), null, null, training: true), "batch_norm", "[5]");
    }

    [Fact]
    public void Batch_norm_updates_running_statistics_without_recording_a_graph()
    {
        var x = TestTensors.Param(1, 4, 2);
        var rm = Tensor.Zeros(new Shape(2), DType.Float64);
        var rv = Tensor.Ones(new Shape(2), DType.Float64);
        var y = Functional.BatchNorm(x, rm, rv, training: true);
        Assert.NotNull(y.GradFn);
        Assert.Null(rm.GradFn);
        Assert.False(rm.RequiresGrad);
        using (new NoGrad()) Assert.Null(Functional.BatchNorm(x, rm, rv, training: true).GradFn);
    }
}
