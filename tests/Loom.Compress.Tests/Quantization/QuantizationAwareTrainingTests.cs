namespace Loom.Compress.Tests.Quantization;

/// <summary>
/// Fake quantisation (values exactly the int8 kernels' grid, straight-through gradients, the moving-average observer)
/// and quantisation-aware training end to end: prepare → train → convert gives the static int8 structure, outputs
/// that match the fake-quantised model's, and a checkpoint the static int8 loader takes.
/// </summary>
public class QuantizationAwareTrainingTests
{
    [Fact]
    public void Activation_fake_quant_rounds_onto_the_int8_grid_and_passes_gradient_only_inside_the_range()
    {
        var qp = new QuantParams(0.1f, 20);                  // representable: [−2.0, 10.7]
        float[] values = [-3f, -2f, -0.04f, 0.26f, 5.55f, 10.7f, 11f, 40f];
        var x = Tensor.FromArray(values).RequiresGrad_();
        var y = FakeQuantize.Apply(x, qp);
        var q = new byte[values.Length];
        var expected = new float[values.Length];
        Int8Quantization.Quantize(values, qp, q);
        Int8Quantization.Dequantize(q, qp, expected);
        Assert.Equal(expected, y.ToArray<float>());

        var upstream = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f]);
        y.Mul(upstream).Sum().Backward();
        // Inside [lo, hi] (ends included, as a clamp's gradient): the upstream gradient; outside: 0.
        Assert.Equal([0f, 2f, 3f, 4f, 5f, 6f, 0f, 0f], x.Grad!.ToArray<float>());
    }

    [Fact]
    public void Weight_fake_quant_is_per_channel_symmetric_and_its_gradient_goes_straight_through()
    {
        var g = new Generator(21);
        var w = Tensor.Randn(new Shape(5, 2, 3, 3), g).RequiresGrad_();
        var y = FakeQuantize.ApplyPerChannel(w);
        var q = new sbyte[w.Numel];
        var scales = new float[5];
        Int8Quantization.QuantizeWeightsPerChannel(w.ToArray<float>(), 5, 18, q, scales);
        Assert.Equal(q.Select((v, i) => v * scales[i / 18]).ToArray(), y.ToArray<float>());

        var upstream = Tensor.Randn(w.Shape, g);
        y.Mul(upstream).Sum().Backward();
        Assert.Equal(upstream.ToArray<float>(), w.Grad!.ToArray<float>());
    }

    [Fact]
    public void The_observer_starts_at_the_first_batch_then_moves_by_the_averaging_constant_and_rests_in_eval()
    {
        var fq = new FakeQuantize(0.25);
        var x = Tensor.FromArray([0.5f, -1f, 2f]);
        Assert.False(fq.Observed);
        fq.Eval();
        Assert.Equal(x.ToArray<float>(), fq.Forward(x).ToArray<float>()); // nothing observed: the identity
        fq.Train();
        fq.Forward(x);
        Assert.Equal((-1f, 2f), (fq.Min.ToArray<float>()[0], fq.Max.ToArray<float>()[0]));
        fq.Forward(Tensor.FromArray([-5f, 6f]));
        Assert.Equal((-1f + 0.25f * (-5f + 1f), 2f + 0.25f * (6f - 2f)), (fq.Min.ToArray<float>()[0], fq.Max.ToArray<float>()[0]));
        fq.Eval();
        fq.Forward(Tensor.FromArray([-50f, 60f]));
        Assert.Equal((-2f, 3f), (fq.Min.ToArray<float>()[0], fq.Max.ToArray<float>()[0]));
        Assert.Equal(Int8Quantization.ActivationParams(-2f, 3f), fq.Params);
    }

    [Fact]
    public void Gradients_that_do_not_pass_a_rounding_match_finite_differences()
    {
        // The bias is added after the fake-quantised product, so the layer's gradient to it is the true one: checked
        // through the whole layer (input and weight fake quantisation included) in float64.
        var g = new Generator(22);
        var conv = new Conv2d(2, 3, 3, padding: 1, dtype: DType.Float64, generator: g);
        var layer = new FakeQuantizedLayer(conv);
        var x = Tensor.Uniform(new Shape(2, 2, 5, 5), -1, 1, g, DType.Float64);
        layer.Forward(x);                                     // observe a range
        layer.Eval();
        Assert.Null(GradCheck.Run(_ => layer.Forward(x).Square().Sum(), [conv.Bias!]));
    }

    /// <summary>The zoo's small CNN shape on 12×12 images.</summary>
    private static Sequential SmallCnn(Generator g) => new(
        new Conv2d(1, 8, 3, padding: 1, generator: g), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
        new Conv2d(8, 12, 3, padding: 1, generator: g), new BatchNorm2d(12), new ReLU(), new MaxPool2d(2),
        new Flatten(), new Linear(12 * 3 * 3, 16, generator: g), new ReLU(), new Dropout(0.1), new Linear(16, 4, generator: g));

    [Fact]
    public void Prepare_train_convert_gives_static_int8_that_computes_what_the_fake_quantised_model_did()
    {
        var g = new Generator(23);
        var model = SmallCnn(g);
        var optimizer = new Sgd(model.Parameters(), 0.05); // built before wrapping: the wrapped layers keep their parameters
        Assert.Equal([0, 4, 9, 12], QuantizationAwareTraining.Prepare(model));
        Assert.IsType<FakeQuantizedLayer>(model[0]);
        model.Train();
        var targets = Tensor.FromArray(Enumerable.Range(0, 16).Select(i => (long)(i % 4)).ToArray());
        var before = ((Conv2d)((FakeQuantizedLayer)model[0]).Layer).Weight.ToArray<float>();
        for (int step = 0; step < 5; step++)
        {
            var x = Tensor.Uniform(new Shape(16, 1, 12, 12), -1, 1, g);
            optimizer.ZeroGrad();
            Functional.CrossEntropy(model.Forward(x), targets).Backward();
            optimizer.Step();
        }
        Assert.NotEqual(before, ((Conv2d)((FakeQuantizedLayer)model[0]).Layer).Weight.ToArray<float>());

        model.Eval();
        var test = Tensor.Uniform(new Shape(32, 1, 12, 12), -1, 1, g);
        float[] fake;
        using (new NoGrad()) fake = model.Forward(test).ToArray<float>();
        var observed = ((FakeQuantizedLayer)model[4]).InputQuantizer.Params;

        var result = QuantizationAwareTraining.Convert(model);
        Assert.Equal(["0", "4", "9", "12"], result.Quantized);
        var conv2 = Assert.IsType<StaticQuantizedConv2d>(model[4]);
        Assert.Equal(observed, conv2.InputParams);
        Assert.Equal(observed, ((StaticQuantizedConv2d)model[0]).OutputParams); // requantised straight into it
        Assert.IsType<Identity>(model[1]);                                       // batch norm folded at conversion
        float[] int8;
        using (new NoGrad()) int8 = model.Forward(test).ToArray<float>();
        // Same grids for weights and activations: only the order of float rounding (and a value landing on the other
        // side of a half step because of it) separates the two.
        float spread = fake.Max() - fake.Min();
        double worst = fake.Zip(int8, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 0.01 * spread, $"worst difference {worst} against a spread of {spread}");

        var state = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        var fresh = StaticQuantization.Prepare(SmallCnn(new Generator(99)));
        Compress.Quantization.LoadStateDict(fresh, state, "qat.safetensors");
        using (new NoGrad()) Assert.Equal(int8, fresh.Forward(test).ToArray<float>());
    }

    [Fact]
    public void Converting_before_any_batch_was_observed_is_refused()
    {
        var model = SmallCnn(new Generator(24));
        QuantizationAwareTraining.Prepare(model);
        TensorAssert.Throws<InvalidOperationException>(() => QuantizationAwareTraining.Convert(model), "layer 0", "observed no batch");
        TensorAssert.Throws<NotSupportedException>(() => new FakeQuantizedLayer(new ReLU()), "ReLU");
    }
}
