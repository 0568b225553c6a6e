namespace Loom.Testing;

/// <summary>Test code run at a chosen <see cref="Threads.Count"/> (process-wide: such tests must not run in parallel).</summary>
public static class ThreadCounts
{
    /// <summary>Runs <paramref name="action"/> with Threads.Count set to <paramref name="threads"/>, then restores it.</summary>
    public static void With(int threads, Action action)
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
