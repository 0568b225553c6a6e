using Loom.Nn.Serialization;

namespace Loom.Compress.Tests.Quantization;

/// <summary>Dynamic int8 of Linear layers, packed in place (<see cref="Compress.Quantization.QuantizeDynamic"/>).</summary>
public class Int8LinearTests
{
    /// <summary>A copy of <paramref name="source"/> with its weight packed to int8.</summary>
    private static Linear Int8Copy(Linear source)
    {
        var copy = new Linear(source.InFeatures, source.OutFeatures, source.Bias is not null);
        copy.LoadStateDict(source.StateDict());
        Compress.Quantization.QuantizeDynamic(copy);
        return copy;
    }

    [Fact]
    public void Output_is_within_the_error_bound_of_the_float_layer()
    {
        var g = new Generator(1);
        var linear = new Linear(37, 21, generator: g);
        var q = Int8Copy(linear);
        var x = Tensor.Uniform(new Shape(5, 37), -1.5, 2.5, g);
        float[] exact, approx;
        using (new NoGrad())
        {
            exact = linear.Forward(x).ToArray<float>();
            approx = q.Forward(x).ToArray<float>();
        }
        // |Δy| ≤ Σ|w|·Δx + Σ|x|·Δw + k·Δx·Δw, with Δx = scale_x / 2 and Δw = scale_w / 2 (rounding to nearest).
        var w = linear.Weight.ToArray<float>();
        var scales = q.StateDict()["weight_scale"].ToArray<float>();
        var xs = x.ToArray<float>();
        float scaleX = (2.5f + 1.5f) / 127; // at most: the batch's range is inside [-1.5, 2.5]
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 21; j++)
            {
                double sumW = 0, sumX = 0;
                for (int p = 0; p < 37; p++) { sumW += Math.Abs(w[j * 37 + p]); sumX += Math.Abs(xs[i * 37 + p]); }
                double bound = sumW * scaleX / 2 + sumX * scales[j] / 2 + 37 * scaleX * scales[j] / 4 + 1e-5;
                double error = Math.Abs(approx[i * 21 + j] - exact[i * 21 + j]);
                Assert.True(error <= bound, $"[{i}, {j}]: error {error} above the bound {bound}");
            }
        // And quantisation did something: the answers are not the float ones bit for bit.
        Assert.NotEqual(exact, approx);
    }

    [Fact]
    public void Leading_dimensions_are_kept_and_a_wrong_width_is_refused()
    {
        var q = Int8Copy(new Linear(8, 3, generator: new Generator(2)));
        Assert.Equal(new Shape(2, 4, 3), q.Forward(Tensor.Ones(2, 4, 8)).Shape);
        TensorAssert.Throws<ArgumentException>(() => q.Forward(Tensor.Ones(2, 7)), "in-features (8)");
    }

    [Fact]
    public void QuantizeDynamic_packs_every_linear_in_place_including_field_held_ones()
    {
        var g = new Generator(3);
        var model = new Sequential(new Flatten(), new Linear(12, 16, generator: g), new ReLU(), new Linear(16, 4, generator: g));
        var x = Tensor.Uniform(new Shape(6, 3, 4), -1, 1, g);
        float[] before;
        using (new NoGrad()) before = model.Forward(x).ToArray<float>();
        var result = Compress.Quantization.QuantizeDynamic(model);
        Assert.Equal(["1.weight", "3.weight"], result.Quantized);
        Assert.Empty(result.LeftInFloat);
        Assert.NotNull(((Linear)model[1]).PackedWeight);
        Assert.DoesNotContain(model.Parameters(), p => p.Rank == 2);
        float[] after;
        using (new NoGrad()) after = model.Forward(x).ToArray<float>();
        TensorAssert.Close(before, after, 0.05, 0.05, "quantised MLP ");

        // A parent holding the layer in a typed field keeps calling the same object, which now runs in int8; an
        // embedding, which reads its matrix directly, stays float and is listed.
        var holder = new Holder(g);
        var held = Compress.Quantization.QuantizeDynamic(holder);
        Assert.Equal(["inner.weight"], held.Quantized);
        Assert.Equal(["embedding.weight"], held.LeftInFloat);
        Assert.Same(holder.Inner, holder.GetSubmodule("inner"));
        Assert.NotNull(holder.Inner.PackedWeight);
        TensorAssert.Throws<InvalidOperationException>(() => _ = holder.Inner.Weight, "packed");
    }

    [Fact]
    public void Int8_checkpoint_round_trips_and_is_about_four_times_smaller()
    {
        var g = new Generator(4);
        var model = new Sequential(new Linear(784, 256, generator: g), new ReLU(), new Linear(256, 10, generator: g));
        using var dir = new TempDir();
        string floatPath = Path.Combine(dir.Path, "float.safetensors"), int8Path = Path.Combine(dir.Path, "int8.safetensors");
        SafeTensors.Save(floatPath, model.StateDict());
        Compress.Quantization.QuantizeDynamic(model);
        SafeTensors.Save(int8Path, model.StateDict());
        double ratio = (double)new FileInfo(floatPath).Length / new FileInfo(int8Path).Length;
        Assert.InRange(ratio, 3.5, 4.0);

        var fresh = new Sequential(new Linear(784, 256, generator: g), new ReLU(), new Linear(256, 10, generator: g));
        Compress.Quantization.QuantizeDynamic(fresh);
        var file = SafeTensors.Load(int8Path);
        Assert.Equal(DType.Int8, file.Tensors["0.weight"].DType);
        // The names and dtypes the retired standalone int8 layer wrote (run folders quantised before session 23), so
        // those folders load into the in-place packed layers.
        Assert.Equal(["0.bias", "0.weight", "0.weight_scale", "0.weight_zero_point", "2.bias", "2.weight", "2.weight_scale", "2.weight_zero_point"],
            file.Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((DType.Float32, DType.Int32, DType.Float32), (file.Tensors["0.weight_scale"].DType, file.Tensors["0.weight_zero_point"].DType, file.Tensors["0.bias"].DType));
        Compress.Quantization.LoadStateDict(fresh, file.Tensors, int8Path);
        var x = Tensor.Uniform(new Shape(3, 784), -1, 1, g);
        using (new NoGrad())
            Assert.Equal(model.Forward(x).ToArray<float>(), fresh.Forward(x).ToArray<float>()); // repacked after the load
    }

    [Fact]
    public void Corrupt_int8_checkpoints_are_rejected_naming_the_tensor()
    {
        var g = new Generator(5);
        Sequential Quantised() => (Sequential)Compress.Quantization.QuantizeDynamic(new Sequential(new Linear(6, 3, generator: g))).Model;
        var good = Quantised().StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());

        Dictionary<string, Tensor> With(string key, Tensor t) => new(good) { [key] = t };
        var floatWeight = With("0.weight", Tensor.Zeros(3, 6));
        TensorAssert.Throws<InvalidDataException>(() => Compress.Quantization.LoadStateDict(Quantised(), floatWeight, "f.safetensors"),
            "f.safetensors", "'0.weight' is float32", "int8");

        var minWeight = good["0.weight"].Clone();
        minWeight.AsSpan<sbyte>()[4] = sbyte.MinValue;
        TensorAssert.Throws<InvalidDataException>(() => Compress.Quantization.LoadStateDict(Quantised(), With("0.weight", minWeight), "f.safetensors"),
            "f.safetensors", "weight '0.weight'", "weight [0, 4] is -128");

        var zeroScale = good["0.weight_scale"].Clone();
        zeroScale.AsSpan<float>()[2] = 0;
        TensorAssert.Throws<InvalidDataException>(() => Compress.Quantization.LoadStateDict(Quantised(), With("0.weight_scale", zeroScale), "f.safetensors"),
            "weight_scale[2] is 0");

        var zeroPoint = good["0.weight_zero_point"].Clone();
        zeroPoint.AsSpan<int>()[1] = 3;
        TensorAssert.Throws<InvalidDataException>(() => Compress.Quantization.LoadStateDict(Quantised(), With("0.weight_zero_point", zeroPoint), "f.safetensors"),
            "weight_zero_point[1] is 3", "symmetric");
    }

    private sealed class Holder : Module<Tensor, Tensor>
    {
        public Holder(Generator g)
        {
            Inner = RegisterModule("inner", new Linear(4, 2, generator: g));
            Embedding = RegisterModule("embedding", new Embedding(5, 4, generator: g));
        }

        public Linear Inner { get; }
        public Embedding Embedding { get; }
        protected override Tensor ForwardCore(Tensor input) => Inner.Forward(input);
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("loom-compress-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
