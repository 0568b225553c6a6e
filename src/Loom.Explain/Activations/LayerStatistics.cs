namespace Loom.Explain;

/// <summary>
/// What one layer's units did over a dataset (<see cref="ActivationStatistics.Collect"/>). A unit is a channel of a
/// convolutional output [N, C, …] (or the last axis with channels-last) or a feature of a [N, F] output; its values are
/// taken over every sample and position.
/// </summary>
/// <param name="Name">The layer's dotted name.</param>
/// <param name="Kind">The module's type ("ReLU", "Conv2d").</param>
/// <param name="Mean">Per unit: mean activation.</param>
/// <param name="Variance">Per unit: population variance of the activation.</param>
/// <param name="ZeroFraction">Per unit: the fraction of its values that are exactly zero.</param>
/// <param name="SaturationFraction">Per unit, for Tanh and Sigmoid layers: the fraction of values within 0.01 of the function's bounds; null for other layers.</param>
/// <param name="ClassMeans">[classes][units]: each class's mean of the per-sample unit means; empty without labels.</param>
/// <param name="TopExamples">Per unit: the indices of the samples (in the order they were given) whose mean activation of the unit is largest, largest first.</param>
public sealed record LayerStatistics(
    string Name, string Kind, double[] Mean, double[] Variance, double[] ZeroFraction, double[]? SaturationFraction,
    double[][] ClassMeans, int[][] TopExamples)
{
    public int Units => Mean.Length;

    /// <summary>Units that were zero for every sample and position: dead ReLUs that no longer learn.</summary>
    public int[] DeadUnits => Enumerable.Range(0, Units).Where(u => ZeroFraction[u] == 1).ToArray();

    /// <summary>The layer's mean over all units and values.</summary>
    public double LayerMean => Mean.Average();

    /// <summary>The layer's variance over all values (each unit has the same number of values).</summary>
    public double LayerVariance => Variance.Zip(Mean, (v, m) => v + m * m).Average() - LayerMean * LayerMean;

    public double LayerZeroFraction => ZeroFraction.Average();

    public double? LayerSaturationFraction => SaturationFraction?.Average();
}
