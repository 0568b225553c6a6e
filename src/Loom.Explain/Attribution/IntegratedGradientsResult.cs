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
    public double[] RelativeError => Delta.Select((d, i) => Relative(d, OutputDifference[i])).ToArray();

    internal static double Relative(double delta, double outputDifference) => Math.Abs(delta) / Math.Max(Math.Abs(outputDifference), 1e-12);

    public double MaxRelativeError => RelativeError.DefaultIfEmpty(0).Max();

    /// <summary>The sample with the largest relative error (−1 when there are none).</summary>
    public int WorstSample => RelativeError is { Length: > 0 } e ? Array.IndexOf(e, e.Max()) : -1;

    /// <summary>Per sample, the integration steps its attributions came from (more than the first pass's where a tolerance refined them).</summary>
    public int[] Steps { get; init; } = [];

    /// <summary>Per sample, the relative error of the first pass, before any refinement (equal to <see cref="RelativeError"/> without a tolerance).</summary>
    public double[] FirstPassRelativeError { get; init; } = [];

    public double MeanRelativeError => RelativeError.DefaultIfEmpty(0).Average();

    /// <summary>The completeness error summed over samples, relative to Σ |f(x) − f(x')|: not dominated by a sample whose output barely moves.</summary>
    public double TotalRelativeError => Delta.Sum(Math.Abs) / Math.Max(OutputDifference.Sum(Math.Abs), 1e-12);
}
