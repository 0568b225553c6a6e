using System.Numerics.Tensors;

namespace Loom.Data;

/// <summary>
/// Feature standardisation with statistics fitted on training data (scikit-learn's <c>StandardScaler</c>):
/// y = (x − μ) / σ per feature, where μ and σ (population standard deviation) come from <see cref="Fit"/> on the
/// training set only and are then applied unchanged to validation and test data. A feature with σ = 0 keeps σ = 1.
/// </summary>
/// <remarks>
/// Fitted on data [N, F…] the feature shape is F… (everything after the sample dimension); <see cref="Apply"/>
/// accepts any tensor whose trailing dimensions equal it, e.g. one sample [F] or a batch [B, F].
/// Save the statistics with the model (<see cref="Save"/>/<see cref="Load"/>, JSON) so inference standardises alike.
/// </remarks>
public sealed class Standardize : ITransform
{
    private readonly double[] _mean, _std;
    private readonly int[] _featureShape;

    public Standardize(double[] mean, double[] std, int[]? featureShape = null)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        featureShape ??= [mean.Length];
        int features = new Shape(featureShape).Numel;
        if (mean.Length != features || std.Length != features)
            throw new ArgumentException($"Standardize: {mean.Length} means and {std.Length} stds for feature shape {new Shape(featureShape)} ({features} features)");
        foreach (var s in std)
            if (!(s > 0) || double.IsInfinity(s)) throw new ArgumentException($"Standardize: std must be positive and finite, got {s}");
        _mean = mean.ToArray();
        _std = std.ToArray();
        _featureShape = featureShape.ToArray();
    }

    public IReadOnlyList<double> Mean => _mean;

    public IReadOnlyList<double> Std => _std;

    public Shape FeatureShape => new(_featureShape);

    /// <summary>Per-feature mean and population standard deviation of <paramref name="data"/> [N, F…] (N ≥ 1).</summary>
    public static Standardize Fit(Tensor data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Rank < 1 || data.Shape[0] == 0)
            throw new ArgumentException($"Standardize.Fit: needs data [N, features…] with N ≥ 1, got shape {data.Shape}");
        int n = data.Shape[0];
        var values = data.ToArray<double>();
        int f = values.Length / n;
        var mean = new double[f];
        var m2 = new double[f];
        // Two passes (mean, then squared deviations) to avoid the cancellation of E[x²] − E[x]².
        for (int i = 0; i < n; i++) TensorPrimitives.Add(mean, values.AsSpan(i * f, f), mean);
        TensorPrimitives.Divide(mean, n, mean);
        var dev = new double[f];
        for (int i = 0; i < n; i++)
        {
            TensorPrimitives.Subtract(values.AsSpan(i * f, f), mean, dev);
            TensorPrimitives.FusedMultiplyAdd(dev, dev, m2, m2);
        }
        var std = new double[f];
        for (int j = 0; j < f; j++)
        {
            double s = Math.Sqrt(m2[j] / n);
            std[j] = s > 0 && double.IsFinite(s) ? s : 1;
        }
        return new Standardize(mean, std, data.Shape.Dims[1..].ToArray());
    }

    public Tensor Apply(Tensor input) => Map(input, inverse: false);

    /// <summary>Undoes the standardisation: x = y·σ + μ.</summary>
    public Tensor Inverse(Tensor input) => Map(input, inverse: true);

    private Tensor Map(Tensor input, bool inverse)
    {
        ArgumentNullException.ThrowIfNull(input);
        string op = inverse ? "Standardize.Inverse" : "Standardize";
        if (!input.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: input must be float32 or float64, got dtype {input.DType.Name()} (shape {input.Shape})");
        int r = _featureShape.Length;
        if (input.Rank < r || !input.Shape.Dims[(input.Rank - r)..].SequenceEqual(_featureShape))
            throw new ArgumentException($"{op}: input shape {input.Shape} does not end with the fitted feature shape {FeatureShape}");
        // y = x·a + b with a = 1/σ, b = −μ/σ (forward) or a = σ, b = μ (inverse).
        var a = new double[_mean.Length];
        var b = new double[_mean.Length];
        for (int j = 0; j < a.Length; j++)
            (a[j], b[j]) = inverse ? (_std[j], _mean[j]) : (1 / _std[j], -_mean[j] / _std[j]);
        var output = input.Detach().Clone();
        if (output.DType == DType.Float32) Affine(output.AsSpan<float>(), Array.ConvertAll(a, v => (float)v), Array.ConvertAll(b, v => (float)v));
        else Affine(output.AsSpan<double>(), a, b);
        return output;
    }

    private static void Affine<T>(Span<T> x, T[] a, T[] b) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int f = a.Length;
        if (f == 0) return;
        for (int i = 0; i < x.Length; i += f)
        {
            var row = x.Slice(i, f);
            TensorPrimitives.FusedMultiplyAdd(row, a, b, row);
        }
    }

    private sealed record Stats(double[] Mean, double[] Std, int[] FeatureShape);

    public void Save(string path) => JsonFile.Write(path, new Stats(_mean, _std, _featureShape));

    public static Standardize Load(string path)
    {
        var stats = JsonFile.Read<Stats>(path, "a Standardize statistics file");
        if (stats?.Mean is null || stats.Std is null || stats.FeatureShape is null)
            throw new InvalidDataException($"{path}: a Standardize statistics file needs \"mean\", \"std\" and \"featureShape\"");
        try
        {
            return new Standardize(stats.Mean, stats.Std, stats.FeatureShape);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }
}
