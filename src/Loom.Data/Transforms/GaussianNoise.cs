namespace Loom.Data;

/// <summary>Adds independent normal noise to every element: y = x + σ·ε, ε ~ N(0, 1). Works on float tensors of any shape.</summary>
public sealed class GaussianNoise : ITransform
{
    public GaussianNoise(double std, ulong seed = 0)
    {
        if (!(std >= 0) || double.IsInfinity(std)) throw new ArgumentOutOfRangeException(nameof(std), std, "GaussianNoise: std must be non-negative and finite");
        Std = std;
        Generator = new Generator(seed);
    }

    public double Std { get; }

    public Generator Generator { get; }

    public Tensor Apply(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!input.DType.IsFloatingPoint())
            throw new ArgumentException($"GaussianNoise: input must be float32 or float64, got dtype {input.DType.Name()} (shape {input.Shape})");
        var output = input.Detach().Clone();
        if (output.DType == DType.Float32)
        {
            var y = output.AsSpan<float>();
            for (int i = 0; i < y.Length; i++) y[i] += (float)(Std * Generator.NextNormal());
        }
        else
        {
            var y = output.AsSpan<double>();
            for (int i = 0; i < y.Length; i++) y[i] += Std * Generator.NextNormal();
        }
        return output;
    }
}
