using Loom.Data.Reference;

namespace Loom.Data.Tests.Transforms;

public class TransformTests
{
    private static Tensor Image(int seed, DType dtype, params int[] shape) => TestTensors.Uniform(seed, 0, 1, dtype, shape);

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Normalize_subtracts_the_channel_mean_and_divides_by_its_std(DType dtype)
    {
        var x = Image(1, dtype, 3, 5, 7);
        var y = new Normalize([0.1, 0.5, 0.9], [0.2, 1, 4]).Apply(x);
        var xs = x.ToArray<double>();
        var expected = new double[xs.Length];
        double[] m = [0.1, 0.5, 0.9], s = [0.2, 1, 4];
        for (int i = 0; i < xs.Length; i++) expected[i] = (xs[i] - m[i / 35]) / s[i / 35];
        TensorAssert.Close(Tensor.FromArray(expected, 3, 5, 7), y.To(DType.Float64), 1e-6, 1e-6);
        Assert.Equal(dtype, y.DType);
    }

    [Fact]
    public void Normalize_handles_batches_grey_images_and_strided_inputs()
    {
        var x = Image(2, DType.Float32, 4, 3, 6, 5);
        var n = new Normalize([0.5, 0.4, 0.3], [0.25, 0.5, 2]);
        var batch = n.Apply(TestTensors.NonContiguous(x));
        for (int i = 0; i < 4; i++) TensorAssert.Close(n.Apply(x.Select(0, i)), batch.Select(0, i), 1e-6, 1e-6);
        var grey = new Normalize(0.5, 0.5).Apply(Tensor.Full(new Shape(2, 2), 1.0));
        Assert.All(grey.ToArray<float>(), v => Assert.Equal(1f, v));
        TensorAssert.Throws<ArgumentException>(() => n.Apply(Image(1, DType.Float32, 2, 4, 4)), "3 means", "2 channels");
        TensorAssert.Throws<ArgumentException>(() => n.Apply(Tensor.Zeros(5)), "Normalize", "[5]");
        TensorAssert.Throws<ArgumentException>(() => n.Apply(Tensor.Zeros(new Shape(3, 2, 2), DType.UInt8)), "uint8", "[3, 2, 2]");
        TensorAssert.Throws<ArgumentException>(() => new Normalize([0.5], [0]), "positive");
    }

    [Fact]
    public void Standardize_fitted_on_train_gives_zero_mean_unit_std_there_and_reuses_the_statistics()
    {
        var train = Tensor.FromArray(new double[] { 1, 10, 5, 2, 20, 5, 3, 30, 5 }, 3, 3);
        var s = Standardize.Fit(train);
        Assert.Equal(new[] { 2.0, 20, 5 }, s.Mean);
        Assert.Equal(Math.Sqrt(2.0 / 3), s.Std[0], 12);
        Assert.Equal(1, s.Std[2]); // constant feature keeps σ = 1
        var z = s.Apply(train).ToArray<double>();
        Assert.Equal(0, z[0] + z[3] + z[6], 12);
        Assert.Equal(0, z[2]);
        var test = s.Apply(Tensor.FromArray(new float[] { 2, 40, 6 }));
        Assert.Equal(DType.Float32, test.DType);
        TensorAssert.Close(new[] { 0, 20 / s.Std[1], 1 }, test.ToArray<double>(), 1e-6, 1e-6);
        TensorAssert.Close(train, s.Inverse(s.Apply(train)), 1e-12, 1e-12);
        TensorAssert.Throws<ArgumentException>(() => s.Apply(Tensor.Zeros(2, 4)), "[2, 4]", "[3]");
    }

    [Fact]
    public void Standardize_statistics_survive_save_and_load()
    {
        using var dir = new TempDir();
        var s = Standardize.Fit(TestTensors.Randn(3, DType.Float64, 50, 2, 3));
        s.Save(dir.File("stats.json"));
        var loaded = Standardize.Load(dir.File("stats.json"));
        Assert.Equal(s.Mean, loaded.Mean);
        Assert.Equal(s.Std, loaded.Std);
        Assert.Equal(new Shape(2, 3), loaded.FeatureShape);
        File.WriteAllText(dir.File("bad.json"), "{\"mean\": [1], \"std\": [0], \"featureShape\": [1]}");
        TensorAssert.Throws<InvalidDataException>(() => Standardize.Load(dir.File("bad.json")), "bad.json", "positive");
        File.WriteAllText(dir.File("junk.json"), "not json");
        TensorAssert.Throws<InvalidDataException>(() => Standardize.Load(dir.File("junk.json")), "junk.json: not a Standardize statistics file");
        Assert.Contains("\"featureShape\"", File.ReadAllText(dir.File("stats.json")));
    }

    [Fact]
    public void RandomCrop_with_padding_is_a_shift_filled_with_zeros()
    {
        var x = Tensor.Arange(1, 1 + 2 * 5 * 5, 1, DType.Float32).Reshape(2, 5, 5);
        var crop = new RandomCrop(5, padding: 2, seed: 1);
        var offsets = new HashSet<(int, int)>();
        for (int trial = 0; trial < 60; trial++)
        {
            var y = crop.Apply(x);
            Assert.Equal(new Shape(2, 5, 5), y.Shape);
            // Find the shift (dy, dx) with y[c, i, j] = x[c, i + dy, j + dx] (0 outside); exactly one must match.
            var match = Enumerable.Range(-2, 5).SelectMany(dy => Enumerable.Range(-2, 5).Select(dx => (dy, dx)))
                .Where(d => Shifted(x, d.dy, d.dx).SequenceEqual(y.ToArray<float>())).ToList();
            Assert.Single(match);
            offsets.Add(match[0]);
        }
        Assert.True(offsets.Count > 10, $"only {offsets.Count} distinct shifts in 60 crops");
    }

    private static float[] Shifted(Tensor x, int dy, int dx)
    {
        var v = x.ToArray<float>();
        var r = new float[v.Length];
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 5; i++)
                for (int j = 0; j < 5; j++)
                {
                    int si = i + dy, sj = j + dx;
                    r[(c * 5 + i) * 5 + j] = si is >= 0 and < 5 && sj is >= 0 and < 5 ? v[(c * 5 + si) * 5 + sj] : 0;
                }
        return r;
    }

    [Fact]
    public void RandomCrop_smaller_than_the_image_cuts_a_window_and_refuses_crops_that_do_not_fit()
    {
        var x = Tensor.Arange(0, 7 * 9, 1, DType.Float64).Reshape(7, 9);
        var y = new RandomCrop((3, 4), seed: 5).Apply(x).ToArray<double>();
        double top = Math.Floor(y[0] / 9), left = y[0] % 9;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) Assert.Equal((top + i) * 9 + left + j, y[i * 4 + j]);
        TensorAssert.Throws<ArgumentException>(() => new RandomCrop(8, padding: 0).Apply(x), "8×8", "7×9");
    }

    [Fact]
    public void RandomHorizontalFlip_mirrors_rows_with_the_given_probability()
    {
        var x = Tensor.Arange(0, 2 * 3 * 4, 1, DType.Float32).Reshape(2, 3, 4);
        var always = new RandomHorizontalFlip(1).Apply(x).ToArray<float>();
        Assert.Equal(new float[] { 3, 2, 1, 0 }, always[..4]);
        Assert.Equal(new float[] { 23, 22, 21, 20 }, always[^4..]);
        Assert.Equal(x.ToArray<float>(), new RandomHorizontalFlip(0).Apply(x).ToArray<float>());
        var coin = new RandomHorizontalFlip(0.5, seed: 2);
        var batch = coin.Apply(Tensor.Arange(0, 4, 1, DType.Float32).Reshape(1, 1, 4).Expand(400, 1, 1, 4));
        int flipped = Enumerable.Range(0, 400).Count(i => batch.GetDouble(i, 0, 0, 0) == 3);
        Assert.InRange(flipped, 140, 260); // per-image draws, about half flipped
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 7, 5)]
    [InlineData(2, 17, 33)]
    public void RandomAffine_kernel_matches_the_reference(int c, int h, int w)
    {
        var x = Image(4, DType.Float32, c, h, w);
        Span<double> m = stackalloc double[6];
        RandomAffine.InverseMatrix(0.3, 1.2, 1.5, -0.7, h, w, m);
        var fast = new float[c * h * w];
        ImageKernels.AffineBilinear<float>(x.ToArray<float>(), c, h, w, m, 0.25f, fast);
        var reference = new double[c * h * w];
        ReferenceImageKernels.AffineBilinear(x.ToArray<double>(), c, h, w, m.ToArray(), 0.25, reference);
        TensorAssert.Close(reference, fast.Select(v => (double)v).ToArray(), 1e-5, 1e-5);
    }

    [Fact]
    public void RandomAffine_identity_translation_and_quarter_turn_are_exact()
    {
        var x = Image(5, DType.Float64, 2, 6, 6);
        TensorAssert.Close(x, new RandomAffine(0).Apply(x), 1e-12, 0);

        Span<double> m = stackalloc double[6];
        var src = x.ToArray<double>();
        var dst = new double[src.Length];
        // A shift by (+2, −1) pixels: y[c, i, j] = x[c, i + 1, j − 2].
        RandomAffine.InverseMatrix(0, 1, 2, -1, 6, 6, m);
        ImageKernels.AffineBilinear<double>(src, 2, 6, 6, m, 0, dst);
        Assert.Equal(x.GetDouble(1, 3, 1), dst[(1 * 6 + 2) * 6 + 3], 12);
        Assert.Equal(0, dst[(0 * 6 + 5) * 6 + 0]);

        // +90° turns the picture counter-clockwise: the top-right corner moves to the top-left.
        RandomAffine.InverseMatrix(Math.PI / 2, 1, 0, 0, 6, 6, m);
        ImageKernels.AffineBilinear<double>(src, 2, 6, 6, m, 0, dst);
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
                Assert.Equal(x.GetDouble(0, j, 5 - i), dst[i * 6 + j], 9);
    }

    [Fact]
    public void RandomAffine_is_seeded_and_keeps_mass_roughly_for_small_motions()
    {
        var x = Tensor.Zeros(1, 28, 28);
        x.Slice(1, 8, 20).Slice(2, 8, 20).CopyFrom(Tensor.Ones(1, 12, 12));
        var a = new RandomAffine(15, (0.1, 0.1), (0.9, 1.1), seed: 3).Apply(x);
        var b = new RandomAffine(15, (0.1, 0.1), (0.9, 1.1), seed: 3).Apply(x);
        Assert.Equal(a.ToArray<float>(), b.ToArray<float>());
        Assert.NotEqual(x.ToArray<float>(), a.ToArray<float>());
        Assert.InRange(a.ToArray<float>().Sum(), 144 * 0.75, 144 * 1.3);
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(10, scale: (1.2, 1.1)), "scale");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(10, scale: (1, double.PositiveInfinity)), "RandomAffine: scale");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(10, translate: (0.1, 1.5)), "RandomAffine: translate must lie in [0, 1], got 1.5");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(double.NaN), "RandomAffine: degrees must lie in [0, 180]");
    }

    [Fact]
    public void GaussianNoise_adds_noise_of_the_given_std_and_is_seeded()
    {
        var x = Tensor.Zeros(100, 100);
        var y = new GaussianNoise(0.5, seed: 1).Apply(x).ToArray<float>();
        double mean = y.Average(), std = Math.Sqrt(y.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, -0.02, 0.02);
        Assert.InRange(std, 0.48, 0.52);
        Assert.Equal(y, new GaussianNoise(0.5, seed: 1).Apply(x).ToArray<float>());
        Assert.All(x.ToArray<float>(), v => Assert.Equal(0, v)); // the input is untouched
        TensorAssert.Throws<ArgumentException>(() => new GaussianNoise(1).Apply(Tensor.Zeros(new Shape(2), DType.Int64)), "int64");
    }

    [Fact]
    public void Compose_applies_in_order_and_works_on_arrays()
    {
        ITransform t = new Compose(new RandomHorizontalFlip(1), new Normalize(1, 2));
        var y = t.Apply([0f, 1, 2, 3, 4, 5], 1, 2, 3);
        Assert.Equal(new float[] { 0.5f, 0, -0.5f, 2, 1.5f, 1 }, y);
    }
}
