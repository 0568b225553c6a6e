namespace Loom.Explain.Tests;

public sealed class GradientAttributionTests
{
    private static Tensor Targets(params long[] classes) => Tensor.FromArray(classes);

    /// <summary>w[targets[i], :] per sample: the gradient of a linear model's selected output.</summary>
    private static Tensor RowsOf(Tensor weight, Tensor targets) => weight.Detach().IndexSelect(0, targets);

    [Theory]
    [InlineData(IntegrationMethod.GaussLegendre, 50)]
    [InlineData(IntegrationMethod.GaussLegendre, 1)]
    [InlineData(IntegrationMethod.RiemannLeft, 7)]
    [InlineData(IntegrationMethod.RiemannRight, 7)]
    [InlineData(IntegrationMethod.RiemannMiddle, 7)]
    [InlineData(IntegrationMethod.RiemannTrapezoid, 7)]
    public void Integrated_gradients_of_a_linear_model_are_the_input_minus_baseline_times_the_weights(IntegrationMethod method, int steps)
    {
        var (model, layer) = TestModels.Linear(6, 4, seed: 1);
        var x = TestTensors.Randn(2, DType.Float64, 5, 6);
        var baseline = TestTensors.Randn(3, DType.Float64, 5, 6);
        var targets = Targets(0, 3, 1, 1, 2);
        var result = new IntegratedGradients(model) { Method = method, Steps = steps, BatchSize = 16 }.Explain(x, targets, baseline);
        TensorAssert.Close(x.Sub(baseline).Mul(RowsOf(layer.Weight, targets)), result.Attributions, atol: 1e-12, rtol: 1e-12);
        Assert.All(result.Delta, d => Assert.True(Math.Abs(d) < 1e-12, $"completeness delta {d}"));
    }

    [Fact]
    public void Gauss_Legendre_is_exact_on_a_cubic_where_the_midpoint_rule_is_not()
    {
        var model = new TestModels.SumOfCubes();
        var x = TestTensors.Randn(4, DType.Float64, 3, 5);
        var exact = x.Pow(3);
        var gauss = new IntegratedGradients(model) { Method = IntegrationMethod.GaussLegendre, Steps = 2 }.Explain(x);
        TensorAssert.Close(exact, gauss.Attributions, atol: 1e-12, rtol: 1e-12);
        Assert.True(gauss.MaxRelativeError < 1e-12, $"Gauss–Legendre completeness error {gauss.MaxRelativeError}");
        // The midpoint rule with two steps (α = ¼, ¾) integrates 3α² to 0.9375 instead of 1: the check above would catch wrong nodes.
        var midpoint = new IntegratedGradients(model) { Method = IntegrationMethod.RiemannMiddle, Steps = 2 }.Explain(x);
        TensorAssert.Close(exact.Mul(0.9375), midpoint.Attributions, atol: 1e-12, rtol: 1e-12);
        Assert.Equal(0.0625, midpoint.MaxRelativeError, 10);
    }

    [Fact]
    public void Gauss_Legendre_rule_has_the_textbook_three_point_nodes_and_weights()
    {
        var (alphas, weights) = Quadrature.GaussLegendre(3);
        double offset = Math.Sqrt(0.6) / 2;
        TensorAssert.Close([0.5 - offset, 0.5, 0.5 + offset], alphas, atol: 1e-14, rtol: 0);
        TensorAssert.Close([5.0 / 18, 8.0 / 18, 5.0 / 18], weights, atol: 1e-14, rtol: 0);
        foreach (int n in new[] { 1, 2, 17, 50, 64 })
        {
            var (a, w) = Quadrature.GaussLegendre(n);
            Assert.Equal(1.0, w.Sum(), 12);
            // ∫₀¹ α^(2n−1) dα = 1/(2n): the degree the rule is exact for.
            Assert.Equal(1.0 / (2 * n), a.Zip(w, (ai, wi) => wi * Math.Pow(ai, 2 * n - 1)).Sum(), 12);
        }
    }

    [Fact]
    public void Saliency_of_a_relu_network_is_the_first_layer_weights_times_the_active_units_weights()
    {
        var (model, first, second) = TestModels.ReluNet(5, 8, 3, seed: 7);
        var x = TestTensors.Randn(8, DType.Float64, 6, 5);
        var targets = Targets(2, 0, 1, 2, 2, 0);
        var w1 = first.Weight.ToArray<double>();
        var b1 = first.Bias!.ToArray<double>();
        var w2 = second.Weight.ToArray<double>();
        var xs = x.ToArray<double>();
        var expected = new double[6 * 5];
        for (int i = 0; i < 6; i++)
        {
            int t = (int)targets.ToArray<long>()[i];
            for (int h = 0; h < 8; h++)
            {
                double pre = b1[h];
                for (int j = 0; j < 5; j++) pre += w1[h * 5 + j] * xs[i * 5 + j];
                if (pre <= 0) continue; // an inactive unit passes no gradient
                for (int j = 0; j < 5; j++) expected[i * 5 + j] += w2[t * 8 + h] * w1[h * 5 + j];
            }
        }
        var signed = new Saliency(model, absolute: false, batchSize: 4).Attribute(x, targets);
        TensorAssert.Close(expected, signed.ToArray<double>(), atol: 1e-12, rtol: 1e-12);
        TensorAssert.Close(expected.Select(Math.Abs).ToArray(), new Saliency(model).Attribute(x, targets).ToArray<double>(), atol: 1e-12, rtol: 1e-12);
        TensorAssert.Close(x.Mul(Tensor.FromArray(expected, 6, 5)), new InputXGradient(model).Attribute(x, targets), atol: 1e-12, rtol: 1e-12);
    }

    [Fact]
    public void Saliency_matches_central_differences_on_a_smooth_network()
    {
        var generator = new Generator(11);
        var model = new Sequential(new Linear(4, 6, dtype: DType.Float64, generator: generator), new Tanh(), new Linear(6, 3, dtype: DType.Float64, generator: generator));
        model.Eval();
        var x = TestTensors.Randn(12, DType.Float64, 3, 4);
        var targets = Targets(1, 2, 0);
        var gradient = new Saliency(model, absolute: false).Attribute(x, targets).ToArray<double>();
        const double eps = 1e-6;
        var xs = x.ToArray<double>();
        for (int k = 0; k < xs.Length; k++)
        {
            double Output(double delta)
            {
                var shifted = (double[])xs.Clone();
                shifted[k] += delta;
                using var noGrad = new NoGrad();
                return model.Forward(Tensor.FromArray(shifted, 3, 4)).GetDouble(k / 4, (int)targets.ToArray<long>()[k / 4]);
            }
            double numeric = (Output(eps) - Output(-eps)) / (2 * eps);
            Assert.True(Math.Abs(numeric - gradient[k]) < 1e-8, $"element {k}: autograd {gradient[k]}, central difference {numeric}");
        }
    }

    [Fact]
    public void Batch_size_does_not_change_attributions()
    {
        var (model, _, _) = TestModels.ReluNet(5, 8, 3, seed: 3);
        var x = TestTensors.Randn(4, DType.Float64, 11, 5);
        var targets = Tensor.FromArray(Enumerable.Range(0, 11).Select(i => (long)(i % 3)).ToArray());
        var small = new IntegratedGradients(model) { Steps = 9, BatchSize = 5 }.Explain(x, targets, x.Mul(0.3));
        var large = new IntegratedGradients(model) { Steps = 9, BatchSize = 1000 }.Explain(x, targets, x.Mul(0.3));
        TensorAssert.Close(large.Attributions, small.Attributions, atol: 1e-13, rtol: 1e-13);
        // Different batch sizes may block the matrix products differently: equal up to rounding.
        TensorAssert.Close(new Saliency(model, batchSize: 1000).Attribute(x, targets), new Saliency(model, batchSize: 2).Attribute(x, targets), atol: 1e-15, rtol: 1e-14);
    }

    [Fact]
    public void Attribution_leaves_parameters_untouched_and_refuses_a_model_in_training_mode()
    {
        var (model, first, second) = TestModels.ReluNet(5, 8, 3, seed: 3);
        second.Weight.RequiresGrad = false; // a frozen parameter must stay frozen, the others trainable
        var x = TestTensors.Randn(4, DType.Float64, 4, 5);
        new IntegratedGradients(model) { Steps = 4 }.Attribute(x, Targets(0, 1, 2, 0));
        Assert.Null(first.Weight.Grad);
        Assert.True(first.Weight.RequiresGrad);
        Assert.False(second.Weight.RequiresGrad);
        model.Train();
        TensorAssert.Throws<InvalidOperationException>(() => new Saliency(model).Attribute(x, Targets(0, 1, 2, 0)), "training mode", "Eval()");
        model.Eval();
        TensorAssert.Throws<ArgumentException>(() => new Saliency(model).Attribute(x), "targets");
        TensorAssert.Throws<ArgumentException>(() => new Saliency(model).Attribute(x, Targets(0, 1)), "targets must be [N] with N = 4");
    }

    [Fact]
    public void SmoothGrad_of_a_linear_model_is_its_weights_whatever_the_noise()
    {
        var (model, layer) = TestModels.Linear(6, 4, seed: 5);
        var x = TestTensors.Randn(6, DType.Float64, 7, 6);
        var targets = Tensor.FromArray(new long[] { 0, 1, 2, 3, 0, 1, 2 });
        var tunnel = new NoiseTunnel(new Saliency(model, absolute: false)) { Samples = 5, Stdev = 0.5, ChunkSize = 3, Generator = new Generator(1) };
        TensorAssert.Close(RowsOf(layer.Weight, targets), tunnel.Attribute(x, targets), atol: 1e-12, rtol: 1e-12);
        var variance = new NoiseTunnel(new Saliency(model, absolute: false)) { Samples = 5, Type = NoiseTunnelType.VarGrad, Generator = new Generator(1) };
        Assert.True(variance.Attribute(x, targets).Abs().Max().Item() < 1e-20);
    }

    [Fact]
    public void SmoothGrad_averages_the_gradient_over_the_noise()
    {
        // f(x) = Σ x³: the gradient 3x² averaged over x + ε, ε ~ N(0, σ²), tends to 3(x² + σ²).
        var model = new TestModels.SumOfCubes();
        var x = Tensor.FromArray(new[] { 0.5, -1.0, 2.0 }, 1, 3);
        var tunnel = new NoiseTunnel(new Saliency(model, absolute: false)) { Samples = 20000, Stdev = 0.3, Generator = new Generator(2) };
        var smooth = tunnel.Attribute(x).ToArray<double>();
        double[] expected = [3 * (0.25 + 0.09), 3 * (1 + 0.09), 3 * (4 + 0.09)];
        TensorAssert.Close(expected, smooth, atol: 0.05, rtol: 0);
        // The noiseless gradient differs by 3σ² = 0.27, far outside that tolerance.
        TensorAssert.Close([0.75, 3, 12], new Saliency(model, absolute: false).Attribute(x).ToArray<double>(), atol: 1e-12, rtol: 0);
    }

    [Fact]
    public void Occlusion_of_single_elements_of_a_linear_model_gives_weight_times_input()
    {
        var (model, layer) = TestModels.Linear(6, 4, seed: 9);
        var x = TestTensors.Randn(10, DType.Float64, 3, 6);
        var targets = Targets(3, 0, 2);
        var attributions = new Occlusion(model, [1]).Attribute(x, targets);
        TensorAssert.Close(x.Mul(RowsOf(layer.Weight, targets)), attributions, atol: 1e-12, rtol: 1e-12);
    }

    [Fact]
    public void Occlusion_credits_each_element_with_the_mean_drop_of_the_windows_that_cover_it()
    {
        // One sample [1, 4] of a sum model; window 2, stride 1: windows {0,1}, {1,2}, {2,3} drop x0+x1, x1+x2, x2+x3.
        var (model, layer) = TestModels.Linear(4, 1, seed: 2);
        using (new NoGrad())
        {
            layer.Weight.FillInPlace(1);
            layer.Bias!.FillInPlace(0);
        }
        var x = Tensor.FromArray(new[] { 1.0, 2, 4, 8 }, 1, 4);
        var attributions = new Occlusion(model, [2], [1]).Attribute(x).ToArray<double>();
        TensorAssert.Close([3, (3 + 6) / 2.0, (6 + 12) / 2.0, 12], attributions, atol: 1e-12, rtol: 0);
        var masks = Occlusion.Windows([2, 3], [1, 2], [1, 1]).ToArray<double>();
        TensorAssert.Close([1, 1, 0, 0, 0, 0, /**/ 0, 1, 1, 0, 0, 0, /**/ 0, 0, 0, 1, 1, 0, /**/ 0, 0, 0, 0, 1, 1], masks, atol: 0, rtol: 0);
    }
}

public sealed class LayerIntegratedGradientsTests
{
    [Fact]
    public void Embedding_attributions_of_a_linear_head_are_embedding_times_weight_and_complete()
    {
        // f(ids) = w · flatten(E[ids]) + b: the path from zero embeddings is linear, so IG on the embedding output is e ⊙ w.
        var generator = new Generator(4);
        var embedding = new Embedding(10, 3, dtype: DType.Float64, generator: generator);
        var head = new Linear(4 * 3, 2, dtype: DType.Float64, generator: generator);
        var model = new Sequential(embedding, new Flatten(), head);
        model.Eval();
        var ids = Tensor.FromArray(new long[] { 1, 2, 3, 4, /**/ 9, 9, 0, 5, /**/ 7, 1, 1, 2 }, 3, 4);
        var targets = Tensor.FromArray(new long[] { 0, 1, 1 });
        var result = new LayerIntegratedGradients(model, embedding) { Steps = 5, BatchSize = 4 }.Explain(ids, targets);
        var vectors = embedding.Weight.Detach().IndexSelect(0, ids.Reshape(-1)).Reshape(3, 4, 3);
        var weights = head.Weight.Detach().IndexSelect(0, targets).Reshape(3, 4, 3);
        TensorAssert.Close(vectors.Mul(weights), result.Attributions, atol: 1e-12, rtol: 1e-12);
        Assert.All(result.Delta, d => Assert.True(Math.Abs(d) < 1e-12, $"completeness delta {d}"));
        Assert.True(embedding.Weight.RequiresGrad);
        Assert.Null(embedding.Weight.Grad);
    }

    [Fact]
    public void Embedding_attributions_of_a_nonlinear_head_are_complete_with_the_default_steps()
    {
        var generator = new Generator(5);
        var embedding = new Embedding(20, 4, dtype: DType.Float64, generator: generator);
        var model = new Sequential(embedding, new Flatten(), new Linear(24, 8, dtype: DType.Float64, generator: generator), new Tanh(), new Linear(8, 3, dtype: DType.Float64, generator: generator));
        model.Eval();
        var ids = Tensor.Randint(0, 20, new Shape(7, 6), generator);
        var result = new LayerIntegratedGradients(model, embedding).Explain(ids, Tensor.FromArray(new long[] { 0, 1, 2, 0, 1, 2, 0 }));
        Assert.Equal([7, 6, 4], result.Attributions.Shape.ToArray());
        Assert.True(result.MaxRelativeError < 1e-6, $"completeness error {result.MaxRelativeError}");
        TensorAssert.Throws<InvalidOperationException>(() => new LayerIntegratedGradients(model, model.Children().ElementAt(1)).Explain(ids, Tensor.Zeros(new Shape(7), DType.Int64)), "view of its input");
    }
}
