using Loom.Nn.Serialization;

namespace Loom.Compress.Tests.Quantization;

/// <summary>
/// Dynamic int8 of recurrent layers and attention projections, packed in place (<see cref="Module.PackParameter"/>):
/// error bounds derived from the scales, exact agreement with the float layer run on the dequantised weights and
/// per-tensor quantised inputs, checkpoints round trip and damaged ones are refused naming the weight.
/// </summary>
public class DynamicQuantizationTests
{
    /// <summary>
    /// Bound on |x̂·ŵ − x·w| for one output: every x within sx/2 of its quantised value and every w within sw/2
    /// (rounding to nearest), so the error is at most Σ|w|·sx/2 + Σ|x|·sw/2 + k·sx·sw/4.
    /// </summary>
    private static double ProductBound(ReadOnlySpan<double> x, ReadOnlySpan<double> w, double sx, double sw)
    {
        double sumW = 0, sumX = 0;
        for (int p = 0; p < x.Length; p++) (sumW, sumX) = (sumW + Math.Abs(w[p]), sumX + Math.Abs(x[p]));
        return sumW * sx / 2 + sumX * sw / 2 + x.Length * sx * sw / 4;
    }

    /// <summary>The step of the per-tensor activation quantisation of <paramref name="x"/> (its own min and max).</summary>
    private static double ActivationStep(Tensor x)
    {
        var v = x.ToArray<float>();
        return Int8Quantization.ActivationParams(v.Min(), v.Max()).Scale;
    }

    private static double[] Scales(Module model, string weight) =>
        model.NamedPackedWeights().Single(w => w.Name == weight).Weight.State.Single(s => s.Suffix == "_scale").Tensor.ToArray<double>();

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    [Theory]
    [InlineData(RecurrentCell.Lstm)]
    [InlineData(RecurrentCell.Gru)]
    public void One_recurrent_step_is_within_the_bound_propagated_from_the_scales(RecurrentCell cell)
    {
        const int inputSize = 11, hidden = 6, batch = 3;
        var g = new Generator(11);
        RNNBase layer = cell == RecurrentCell.Lstm ? new LSTM(inputSize, hidden, generator: g) : new GRU(inputSize, hidden, generator: g);
        var state = layer.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<double>());
        var x = Tensor.Uniform(new Shape(1, batch, inputSize), -2, 3, g);
        var h0 = Tensor.Uniform(new Shape(1, batch, hidden), -0.9, 0.8, g);
        var c0 = Tensor.Uniform(new Shape(1, batch, hidden), -1.5, 1.5, g);
        Tensor Run() => layer is LSTM lstm ? lstm.Forward(x, (h0, c0)).Output : ((GRU)layer).Forward(x, h0).Output;
        float[] exact;
        using (new NoGrad()) exact = Run().ToArray<float>();
        var result = Compress.Quantization.QuantizeDynamic(layer);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0"], result.Quantized);
        float[] approx;
        using (new NoGrad()) approx = Run().ToArray<float>();

        double sx = ActivationStep(x), sh = ActivationStep(h0);
        double[] sIh = Scales(layer, "weight_ih_l0"), sHh = Scales(layer, "weight_hh_l0");
        double[] xs = x.ToArray<double>(), hs = h0.ToArray<double>(), cs = c0.ToArray<double>();
        int gates = state["weight_hh_l0"].Length / hidden;
        for (int b = 0; b < batch; b++)
        {
            var xb = xs.AsSpan(b * inputSize, inputSize);
            var hb = hs.AsSpan(b * hidden, hidden);
            // Each gate row's float pre-activations (input and hidden sides) and the bound on their int8 error.
            var gx = new double[gates];
            var gh = new double[gates];
            var eIh = new double[gates];
            var eHh = new double[gates];
            for (int r = 0; r < gates; r++)
            {
                var wIh = state["weight_ih_l0"].AsSpan(r * inputSize, inputSize);
                var wHh = state["weight_hh_l0"].AsSpan(r * hidden, hidden);
                for (int p = 0; p < inputSize; p++) gx[r] += xb[p] * wIh[p];
                for (int p = 0; p < hidden; p++) gh[r] += hb[p] * wHh[p];
                gx[r] += state["bias_ih_l0"][r];
                gh[r] += state["bias_hh_l0"][r];
                eIh[r] = ProductBound(xb, wIh, sx, sIh[r]);
                eHh[r] = ProductBound(hb, wHh, sh, sHh[r]);
            }
            for (int j = 0; j < hidden; j++)
            {
                double h, bound;
                if (cell == RecurrentCell.Lstm)
                {
                    // σ is 1/4-Lipschitz and tanh 1-Lipschitz; c' = f·c + i·g and h = o·tanh(c') take products' errors.
                    double Pre(int gate) => gx[gate * hidden + j] + gh[gate * hidden + j];
                    double Err(int gate) => eIh[gate * hidden + j] + eHh[gate * hidden + j];
                    double i = Sigmoid(Pre(0)), f = Sigmoid(Pre(1)), gg = Math.Tanh(Pre(2)), o = Sigmoid(Pre(3));
                    double di = Err(0) / 4, df = Err(1) / 4, dg = Err(2), dOut = Err(3) / 4;
                    double c = f * cs[b * hidden + j] + i * gg;
                    double dc = Math.Abs(cs[b * hidden + j]) * df + Math.Abs(gg) * di + Math.Abs(i) * dg + di * dg;
                    h = o * Math.Tanh(c);
                    bound = dOut * Math.Abs(Math.Tanh(c)) + (Math.Abs(o) + dOut) * dc;
                }
                else
                {
                    // n = tanh(gx_n + r·hg_n): the reset gate multiplies the hidden side's error and brings its own.
                    double r = Sigmoid(gx[j] + gh[j]), z = Sigmoid(gx[hidden + j] + gh[hidden + j]);
                    double dr = (eIh[j] + eHh[j]) / 4, dz = (eIh[hidden + j] + eHh[hidden + j]) / 4;
                    double hgN = gh[2 * hidden + j], eN = eHh[2 * hidden + j];
                    double n = Math.Tanh(gx[2 * hidden + j] + r * hgN);
                    double dn = eIh[2 * hidden + j] + Math.Abs(r) * eN + dr * (Math.Abs(hgN) + eN);
                    h = (1 - z) * n + z * hb[j];
                    bound = dz * Math.Abs(n) + (Math.Abs(1 - z) + dz) * dn + dz * Math.Abs(hb[j]);
                }
                int at = b * hidden + j;
                Assert.True(Math.Abs(exact[at] - h) < 1e-5, $"reference cell [{b}, {j}]: {h} against the float layer's {exact[at]}");
                double error = Math.Abs(approx[at] - exact[at]);
                Assert.True(error <= bound + 1e-5, $"[{b}, {j}]: int8 error {error} above the bound {bound}");
            }
        }
        Assert.NotEqual(exact, approx);
    }

    /// <summary>x quantised per tensor and back, with the kernels' own rounding: what a packed product sees of its input.</summary>
    private static Tensor FakeQuantize(Tensor x)
    {
        var v = x.Contiguous().ToArray<float>();
        var qp = Int8Quantization.ActivationParams(v.Min(), v.Max());
        var q = new byte[v.Length];
        Int8Quantization.Quantize(v, qp, q);
        var back = new float[v.Length];
        Int8Quantization.Dequantize(q, qp, back);
        return Tensor.FromArray(back, x.Shape.ToArray());
    }

    /// <summary>A float copy of <paramref name="quantized"/>'s source with every packed weight replaced by its dequantised values.</summary>
    private static void LoadDequantized(Module reference, Module quantized)
    {
        var state = reference.StateDict();
        using (new NoGrad())
            foreach (var (name, weight) in quantized.NamedPackedWeights())
            {
                var values = weight.State.Single(s => s.Suffix == "").Tensor.To(DType.Float32);
                var scales = weight.State.Single(s => s.Suffix == "_scale").Tensor;
                state[name].CopyFrom(values.Mul(scales.Unsqueeze(1)));
            }
    }

    public static TheoryData<string> AttentionCases => ["self", "shared key and value", "separate kdim and vdim"];

    [Theory]
    [MemberData(nameof(AttentionCases))]
    public void Quantized_attention_is_the_float_layer_on_dequantised_weights_and_per_tensor_quantised_inputs(string kind)
    {
        const int embed = 16, heads = 4, length = 5, source = 7, batch = 2;
        var g = new Generator(21);
        int? kdim = kind == "separate kdim and vdim" ? 10 : null, vdim = kind == "separate kdim and vdim" ? 6 : null;
        MultiheadAttention Make() => new(embed, heads, batchFirst: true, kdim: kdim, vdim: vdim, generator: new Generator(22));
        var quantized = Make();
        using (new NoGrad())
            foreach (var p in quantized.Parameters()) p.CopyFrom(Tensor.Uniform(p.Shape, -0.5, 0.5, g)); // biases too, not zeros
        var reference = Make();
        reference.LoadStateDict(quantized.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone()));
        var result = Compress.Quantization.QuantizeDynamic(quantized);
        Assert.Equal(kdim is null ? ["in_proj_weight", "out_proj.weight"] : ["q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"],
            result.Quantized);
        LoadDequantized(reference, quantized);
        reference.OutProj.RegisterForwardPreHook((_, input) => FakeQuantize((Tensor)input));

        var query = Tensor.Uniform(new Shape(batch, length, embed), -1, 2, g);
        var key = kind == "self" ? query : Tensor.Uniform(new Shape(batch, source, kdim ?? embed), -2, 1, g);
        var value = kind == "separate kdim and vdim" ? Tensor.Uniform(new Shape(batch, source, vdim!.Value), -1, 1, g) : key;
        // Each projection quantises its own input tensor once; the same object for the roles that share it.
        var fq = FakeQuantize(query);
        var fk = ReferenceEquals(key, query) ? fq : FakeQuantize(key);
        var fv = ReferenceEquals(value, key) ? fk : FakeQuantize(value);
        using (new NoGrad())
        {
            var expected = reference.Forward(fq, fk, fv, needWeights: false).Output;
            var actual = quantized.Forward(query, key, value, needWeights: false).Output;
            TensorAssert.Close(expected, actual, 1e-5, 1e-4);
        }
    }

    [Fact]
    public void Int8_recurrent_checkpoint_round_trips_through_safetensors_and_damage_is_named()
    {
        var g = new Generator(31);
        LSTM Make() => new(5, 8, numLayers: 2, batchFirst: true, bidirectional: true, generator: g);
        var lstm = Make();
        var result = Compress.Quantization.QuantizeDynamic(lstm);
        Assert.Equal(8, result.Quantized.Count); // weight_ih and weight_hh of 2 layers × 2 directions
        Assert.DoesNotContain(lstm.Parameters(), p => p.Rank == 2);
        var path = Path.Combine(Directory.CreateTempSubdirectory("loom-dyn-").FullName, "lstm.safetensors");
        try
        {
            SafeTensors.Save(path, lstm.StateDict());
            var file = SafeTensors.Load(path).Tensors;
            Assert.Equal(DType.Int8, file["weight_hh_l1_reverse"].DType);
            Assert.Equal(DType.Float32, file["weight_hh_l1_reverse_scale"].DType);
            Assert.Equal(DType.Float32, file["bias_ih_l0"].DType);

            var fresh = Make();
            Compress.Quantization.QuantizeDynamic(fresh);
            Compress.Quantization.LoadStateDict(fresh, file, path);
            var x = Tensor.Uniform(new Shape(3, 6, 5), -1, 1, g);
            int[] lengths = [6, 2, 4];
            using (new NoGrad())
            {
                var (expected, (h, c)) = lstm.Forward(x, null, lengths);
                var (actual, (h2, c2)) = fresh.Forward(x, null, lengths);
                Assert.Equal(expected.ToArray<float>(), actual.ToArray<float>()); // the loaded values, repacked
                Assert.Equal(h.ToArray<float>(), h2.ToArray<float>());
                Assert.Equal(c.ToArray<float>(), c2.ToArray<float>());
                // A padded step's output is exactly zero, as in the float layer.
                Assert.All(actual.Select(0, 1).Narrow(0, 2, 4).ToArray<float>(), v => Assert.Equal(0f, v));
            }

            var damaged = new Dictionary<string, Tensor>(file) { ["weight_hh_l0_scale"] = Tensor.Zeros(file["weight_hh_l0_scale"].Shape) };
            var target = Make();
            Compress.Quantization.QuantizeDynamic(target);
            TensorAssert.Throws<InvalidDataException>(() => Compress.Quantization.LoadStateDict(target, damaged, path),
                path, "weight 'weight_hh_l0'", "weight_scale[0] is 0");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void Packing_is_refused_for_a_layer_that_reads_its_parameter_directly_and_for_a_mismatched_shape()
    {
        var g = new Generator(41);
        var embedding = new Embedding(6, 4, generator: g);
        var weight = embedding.Weight;
        TensorAssert.Throws<NotSupportedException>(
            () => embedding.PackParameter("weight", Compress.Quantization.QuantizeDynamic(new Linear(4, 6, generator: g)).Model.NamedPackedWeights().Single().Weight),
            "Embedding reads its parameter 'weight' directly");
        Assert.Same(weight, embedding.Parameters().Single()); // nothing changed
        var linear = new Linear(4, 6, generator: g);
        TensorAssert.Throws<ArgumentException>(
            () => linear.PackParameter("weight", Compress.Quantization.QuantizeDynamic(new Linear(4, 5, generator: g)).Model.NamedPackedWeights().Single().Weight),
            "[6, 4]", "[5, 4]");
        Assert.Null(linear.PackedWeight);
    }
}
