namespace Loom.Bench;

/// <summary>
/// One benchmark family of `loom bench`. Implementations are found by reflection, so adding a benchmark is adding a
/// file. Each measures after warm-up and reports medians.
/// </summary>
public interface IBenchmark
{
    /// <summary>The suite it belongs to: "kernels" or "train".</summary>
    string Suite { get; }

    /// <summary>Short name used in output and JSON ("sgemm", "conv2d"…).</summary>
    string Name { get; }

    /// <summary>Runs and appends its results to <paramref name="report"/>.</summary>
    void Run(BenchReport report, BenchOptions options);
}
