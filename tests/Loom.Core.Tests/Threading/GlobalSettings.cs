namespace Loom.Tests;

/// <summary>Tests that change process-wide settings (Threads.Count, Gemm.ForcedPath) run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class GlobalSettings
{
    public const string Name = "Process-wide settings";

    /// <summary>Runs <paramref name="action"/> with Threads.Count set to <paramref name="threads"/>, then restores it.</summary>
    public static void WithThreads(int threads, Action action)
    {
        int saved = Threads.Count;
        Threads.Count = threads;
        try
        {
            action();
        }
        finally
        {
            Threads.Count = saved;
        }
    }
}
