namespace Loom.Tests;

/// <summary>
/// Tests that change process-wide settings (Threads.Count, Gemm.ForcedPath, ConvKernels.ForcedAlgorithm), or that hold
/// weights packed for the active GEMM path, run one at a time and with no other test running: a weight packed for
/// AVX-512 is refused while another test forces AVX2.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalSettings
{
    public const string Name = "Process-wide settings";

    /// <summary>Runs <paramref name="action"/> with Threads.Count set to <paramref name="threads"/>, then restores it.</summary>
    public static void WithThreads(int threads, Action action) => ThreadCounts.With(threads, action);
}
