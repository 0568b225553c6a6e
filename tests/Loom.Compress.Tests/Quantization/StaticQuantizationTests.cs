namespace Loom.Compress.Tests.Quantization;

public class StaticQuantizationTests
{
    private static void SetNorm(BatchNormBase bn, Generator g)
    {
        int c = bn.NumFeatures;
        bn.RunningMean!.CopyFrom(Tensor.Uniform(new Shape(c), -0.5, 0.5, g));
        bn.RunningVar!.CopyFrom(Tensor.Uniform(new Shape(c), 0.2, 3.0, g));
        using var noGrad = new NoGrad();
        bn.Weight!.CopyFrom(Tensor.Uniform(new Shape(c), -2, 2, g));
        bn.Bias!.CopyFrom(Tensor.Uniform(new Shape(c), -1, 1, g));
    }

    [Fact]
    public void Batch_norm_folding_is_exact_to_float_tolerance_for_convolutions_and_linear_layers()
    {
        var g = new Generator(11);
        var convNorm = new BatchNorm2d(6);
        var lineNorm = new BatchNorm1d(5);
        SetNorm(convNorm, g);
        SetNorm(lineNorm, g);
        var model = new Sequential(new Conv2d(3, 6, 3, stride: 2, padding: 1, bias: false, generator: g), convNorm, new ReLU(),
            new Flatten(), new Linear(6 * 4 * 4, 5, generator: g), lineNorm);
        model.Eval();
        var x = Tensor.Uniform(new Shape(4, 3, 8, 8), -2, 2, g);
        float[] before, after;
        using (new NoGrad()) before = model.Forward(x).ToArray<float>();
        Assert.Equal([1, 5], BatchNormFolding.Fold(model));
        Assert.IsType<Identity>(model[1]);
        Assert.IsType<Identity>(model[5]);
        Assert.NotNull(((Conv2d)model[0]).Bias); // the folded shift needs a bias the original layer did not have
        using (new NoGrad()) after = model.Forward(x).ToArray<float>();
        TensorAssert.Close(before, after, 1e-5, 1e-5, "folded ");
    }

    [Fact]
    public void Folding_refuses_a_batch_norm_without_running_statistics()
    {
        var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4, trackRunningStats: false));
        TensorAssert.Throws<NotSupportedException>(() => BatchNormFolding.Fold(model), "layer 1", "running statistics");
    }

    private static ActivationObserver Observe(CalibrationMethod method, float[] values)
    {
        var o = new ActivationObserver(method);
        o.ObserveRange(values);
        if (o.NeedsHistogram) o.ObserveHistogram(values);
        return o;
    }

    /// <summary>A bulk uniform on [0, 1] and one far outlier at 10 (the bulk spans ~205 of the 2048 bins, more than the 128 levels).</summary>
    private static float[] BulkWithOutlier()
    {
        var g = new Generator(12);
        var values = Enumerable.Range(0, 100_000).Select(_ => g.NextFloat()).ToArray();
        values[123] = 10f;
        return values;
    }

    [Fact]
    public void MinMax_keeps_the_outlier_while_percentile_and_entropy_clip_it()
    {
        var values = BulkWithOutlier();
        var minMax = Observe(CalibrationMethod.MinMax, values).Params();
        Assert.Equal(10f / 127, minMax.Scale, 1e-6f);
        Assert.Equal(0, minMax.ZeroPoint);
        // 99.99 % of the values lie below 1, so the percentile range ends one histogram bin (10/2048) above 1 at most.
        var percentile = Observe(CalibrationMethod.Percentile, values).Params();
        Assert.InRange(percentile.Scale * 127, 0.99f, 1f + 2 * 10f / 2048);
        // KL prefers fine steps over the bulk to resolving one sample in 100,000: the threshold lands near the bulk's end.
        var entropy = Observe(CalibrationMethod.Entropy, values);
        Assert.InRange(entropy.EntropyThreshold(), 0.9f, 1.5f);
    }

    [Fact]
    public void Entropy_keeps_the_whole_range_of_a_uniform_distribution()
    {
        var g = new Generator(13);
        var values = Enumerable.Range(0, 50_000).Select(_ => 4 * g.NextFloat()).ToArray();
        // Nothing is an outlier: cutting anywhere would pile mass onto the last bin, so the threshold is (almost) the maximum.
        Assert.InRange(Observe(CalibrationMethod.Entropy, values).EntropyThreshold(), 3.8f, 4.01f);
    }

    [Fact]
    public void A_histogram_method_without_its_second_pass_is_refused()
    {
        var o = new ActivationObserver(CalibrationMethod.Entropy);
        o.ObserveRange([1f, 2f]);
        TensorAssert.Throws<InvalidOperationException>(() => o.Params(), "Entropy", "ObserveHistogram");
    }

    /// <summary>The zoo's small CNN shape on 12×12 images: Conv–BN–ReLU–Pool ×2, Flatten, Linear–ReLU–Dropout–Linear.</summary>
    private static Sequential SmallCnn(Generator g)
    {
        var bn1 = new BatchNorm2d(8);
        var bn2 = new BatchNorm2d(12);
        SetNorm(bn1, g);
        SetNorm(bn2, g);
        var model = new Sequential(
            new Conv2d(1, 8, 3, padding: 1, generator: g), bn1, new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 12, 3, padding: 1, generator: g), bn2, new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(12 * 3 * 3, 16, generator: g), new ReLU(), new Dropout(0.1), new Linear(16, 4, generator: g));
        model.Eval();
        return model;
    }

    [Theory]
    [InlineData(CalibrationMethod.MinMax)]
    [InlineData(CalibrationMethod.Percentile)]
    [InlineData(CalibrationMethod.Entropy)]
    public void Static_int8_cnn_keeps_activations_in_u8_between_layers_and_stays_close_to_float(CalibrationMethod method)
    {
        var g = new Generator(14);
        var model = SmallCnn(g);
        var calibration = Enumerable.Range(0, 4).Select(_ => Tensor.Uniform(new Shape(16, 1, 12, 12), -1, 1, g)).ToList();
        var x = Tensor.Uniform(new Shape(32, 1, 12, 12), -1, 1, g);
        float[] before;
        using (new NoGrad()) before = model.Forward(x).ToArray<float>();

        var result = StaticQuantization.Quantize(model, calibration, method);
        Assert.Equal(["0", "4", "9", "12"], result.Quantized);
        var conv1 = Assert.IsType<StaticQuantizedConv2d>(model[0]);
        Assert.True(conv1.Requantizes);
        Assert.Equal(0, conv1.OutputParams.ZeroPoint);               // fused ReLU: the next layer's inputs start at 0
        Assert.Equal(((StaticQuantizedConv2d)model[4]).InputParams, conv1.OutputParams);
        Assert.IsType<Identity>(model[2]);                           // the ReLU lives in the requantising clamp
        Assert.IsType<QuantizedMaxPool2d>(model[3]);
        Assert.False(((StaticQuantizedLinear)model[12]).Requantizes); // the logits come out in float

        Tensor afterConv1;
        float[] after;
        using (new NoGrad())
        {
            afterConv1 = model[0].Forward(x);
            after = model.Forward(x).ToArray<float>();
        }
        Assert.Equal(DType.UInt8, afterConv1.DType);
        // Four quantised layers on random weights: the logits stay within a few percent of their spread. Entropy
        // calibration gives up the heavy tail of the flattened features (2,880 non-zero values here) for resolution —
        // it cuts at about a quarter of their maximum — so its logits move more; the predictions must still agree.
        float spread = before.Max() - before.Min();
        double worst = before.Zip(after, (a, b) => Math.Abs(a - b)).Max();
        double allowed = method == CalibrationMethod.Entropy ? 0.3 : 0.02;
        Assert.True(worst < allowed * spread, $"{method}: worst logit error {worst} against a spread of {spread}");
        int agree = Enumerable.Range(0, 32).Count(i => ArgMax(before, i) == ArgMax(after, i));
        Assert.True(agree >= 28, $"{method}: {agree}/32 predictions agree");
    }

    private static int ArgMax(float[] logits, int row) => Enumerable.Range(0, 4).MaxBy(c => logits[row * 4 + c]);

    [Fact]
    public void A_static_int8_checkpoint_loads_into_the_prepared_structure_and_corruption_is_refused()
    {
        var g = new Generator(15);
        var model = SmallCnn(g);
        StaticQuantization.Quantize(model, [Tensor.Uniform(new Shape(8, 1, 12, 12), -1, 1, g)], CalibrationMethod.MinMax);
        var state = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        Assert.Equal(DType.Int8, state["4.weight"].DType);
        Assert.True(state.ContainsKey("4.output_scale"));

        var fresh = StaticQuantization.Prepare(SmallCnn(new Generator(99)));
        Compress.Quantization.LoadStateDict(fresh, state, "m.safetensors");
        var x = Tensor.Uniform(new Shape(3, 1, 12, 12), -1, 1, g);
        using (new NoGrad()) Assert.Equal(model.Forward(x).ToArray<float>(), fresh.Forward(x).ToArray<float>());

        var badScale = new Dictionary<string, Tensor>(state) { ["4.input_scale"] = Tensor.Zeros(1) };
        TensorAssert.Throws<InvalidDataException>(() => Compress.Quantization.LoadStateDict(StaticQuantization.Prepare(SmallCnn(g)), badScale, "m.safetensors"),
            "m.safetensors", "layer '4'", "input_scale is 0");
        var badZero = new Dictionary<string, Tensor>(state) { ["0.output_zero_point"] = Tensor.FromArray([200], 1) };
        TensorAssert.Throws<InvalidDataException>(() => Compress.Quantization.LoadStateDict(StaticQuantization.Prepare(SmallCnn(g)), badZero, "m.safetensors"),
            "layer '0'", "output_zero_point is 200");
    }

    [Fact]
    public void A_u8_input_is_taken_as_quantised_with_the_layers_input_parameters()
    {
        var g = new Generator(16);
        var linear = new Linear(10, 3, generator: g);
        var qp = new QuantParams(0.03f, 20);
        var q = StaticQuantizedLinear.FromLinear(linear, qp, null);
        var x = Tensor.Uniform(new Shape(2, 10), -0.5, 3, g);
        var bytes = new byte[20];
        Int8Quantization.Quantize(x.ToArray<float>(), qp, bytes);
        using var noGrad = new NoGrad();
        Assert.Equal(q.Forward(x).ToArray<float>(), q.Forward(Tensor.FromArray(bytes, 2, 10)).ToArray<float>());
    }

    [Fact]
    public void A_requantised_convolution_returns_a_channels_last_view_that_reads_as_nchw_and_pools_alike()
    {
        var g = new Generator(17);
        var conv = new Conv2d(3, 20, 3, padding: 1, generator: g);
        var x = Tensor.Uniform(new Shape(2, 3, 7, 6), -1, 1, g);
        var output = new QuantParams(0.02f, 40);
        var q = StaticQuantizedConv2d.FromConv2d(conv, Int8Quantization.ActivationParams(-1, 1), output);
        using var noGrad = new NoGrad();
        var y = q.Forward(x);
        Assert.Equal(new Shape(2, 20, 7, 6), y.Shape);
        Assert.False(y.IsContiguous);                       // [N, C, H, W] over an [N, H, W, C] buffer
        Assert.True(y.Permute(0, 2, 3, 1).IsContiguous);

        // In NCHW order each value is the float convolution's, requantised, within the rounding of the int8 operands.
        var expected = conv.Forward(x).ToArray<float>();
        var actual = y.Contiguous().ToArray<byte>();
        for (int i = 0; i < expected.Length; i++)
        {
            float exact = Math.Clamp(expected[i] / output.Scale + output.ZeroPoint, 0, 127);
            Assert.True(Math.Abs(actual[i] - exact) <= 2f, $"value {i}: {actual[i]} against {exact}");
        }

        // The channels-last pooling gives what pooling the NCHW copy gives, and stays channels-last for the next layer.
        var pool = new QuantizedMaxPool2d(2, 2, 0);
        var pooled = pool.Forward(y);
        Assert.True(pooled.Permute(0, 2, 3, 1).IsContiguous);
        Assert.Equal(pool.Forward(y.Contiguous()).ToArray<byte>(), pooled.Contiguous().ToArray<byte>());
    }
}
