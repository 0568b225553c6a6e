namespace Loom.Explain;

/// <summary>
/// Integrated-gradient attributions and their completeness check: per sample, <see cref="Delta"/> = Σ attributions −
/// (f(x) − f(x')), Captum's convergence delta, which the exact integral makes zero.
/// </summary>
/// <param name="Attributions">[N, …], the inputs' shape.</param>
/// <param name="Delta">Per sample: Σ attributions − (f(x) − f(x')).</param>
/// <param name="OutputDifference">Per sample: f(x) − f(x').</param>
public sealed record IntegratedGradientsResult(Tensor Attributions, double[] Delta, double[] OutputDifference)
{
    /// <summary>Per sample, |delta| / |f(x) − f(x')|: the completeness error as a fraction of what is being explained.</summary>
    public double[] RelativeError => Delta.Select((d, i) => Math.Abs(d) / Math.Max(Math.Abs(OutputDifference[i]), 1e-12)).ToArray();

    public double MaxRelativeError => RelativeError.DefaultIfEmpty(0).Max();

    public double MeanRelativeError => RelativeError.DefaultIfEmpty(0).Average();

    /// <summary>The completeness error summed over samples, relative to Σ |f(x) − f(x')|: not dominated by a sample whose output barely moves.</summary>
    public double TotalRelativeError => Delta.Sum(Math.Abs) / Math.Max(OutputDifference.Sum(Math.Abs), 1e-12);
}
