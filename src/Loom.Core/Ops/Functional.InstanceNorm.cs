namespace Loom;

// Instance normalisation of x [N, C, *]: each (sample, channel) normalised over its own spatial positions,
//   y = (x − mean_{n,c}) / √(var_{n,c} + ε) · w_c + b_c      (biased variance)
// which is group norm with one group per channel, so the forward and backward are GroupNorm's. With running
// statistics (track_running_stats) the batch averages of the per-instance mean and unbiased variance update them,
// r ← (1 − m)·r + m·mean_n(stat), as PyTorch's instance_norm does through batch_norm; without input statistics
// (evaluation with tracked statistics) it is batch norm in evaluation mode.
public static partial class Functional
{
    /// <summary>
    /// Instance normalisation (like <c>torch.nn.functional.instance_norm</c>) of an input [N, C, *] with at least one
    /// spatial dimension; <paramref name="weight"/> and <paramref name="bias"/> are per channel [C].
    /// </summary>
    /// <param name="useInputStats">Normalise with each instance's statistics (true, the default, and always in
    /// training); false normalises with the running statistics, which must then be given.</param>
    /// <param name="runningMean">[C], updated in place when <paramref name="useInputStats"/> (with
    /// <paramref name="runningVar"/>).</param>
    public static Tensor InstanceNorm(Tensor input, Tensor? runningMean = null, Tensor? runningVar = null, Tensor? weight = null, Tensor? bias = null,
        bool useInputStats = true, double momentum = 0.1, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        const string op = "instance_norm";
        if (input.Rank < 3) throw new ArgumentException($"{op}: expected input [N, C, *] with at least one spatial dimension, got shape {input.Shape}");
        if ((runningMean is null) != (runningVar is null)) throw new ArgumentException($"{op}: give both running_mean and running_var or neither");
        if (!useInputStats)
        {
            if (runningMean is null) throw new ArgumentException($"{op}: running statistics are required when not using input statistics (input {input.Shape})");
            return BatchNorm(input, runningMean, runningVar, weight, bias, training: false, momentum, eps);
        }
        int c = input.Shape[1];
        int spatial = input.Numel / Math.Max(1, input.Shape[0] * c);
        if (spatial <= 1 && input.Numel > 0)
            throw new ArgumentException($"{op}: expected more than 1 spatial element per instance when using input statistics, got input shape {input.Shape}");
        if (runningMean is not null) UpdateInstanceStatistics(input, runningMean, runningVar!, momentum, op);
        return GroupNorm(input, c, weight, bias, eps);
    }

    private static void UpdateInstanceStatistics(Tensor input, Tensor runningMean, Tensor runningVar, double momentum, string op)
    {
        int c = input.Shape[1];
        CheckRunning(runningMean, c, input, "running_mean");
        CheckRunning(runningVar, c, input, "running_var");
        using var noGrad = new NoGrad();
        int[] spatialAxes = [.. Enumerable.Range(2, input.Rank - 2)];
        var mean = input.Mean(spatialAxes).Mean(0).To(runningMean.DType);
        var variance = input.Var(spatialAxes, correction: 1).Mean(0).To(runningVar.DType);
        runningMean.MulInPlace(1 - momentum).AddInPlace(mean, momentum);
        runningVar.MulInPlace(1 - momentum).AddInPlace(variance, momentum);
    }
}
