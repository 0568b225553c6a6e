namespace Loom.Threading;

/// <summary>
/// The one intra-op parallel loop of Loom. Splits [0, count) into at most <see cref="Threads.Count"/> contiguous
/// ranges of equal size and runs them concurrently on the calling thread and <see cref="WorkerPool"/> threads; work
/// below the grain (items per thread) stays on the calling thread, because even a cheap dispatch costs about a
/// microsecond.
/// </summary>
/// <remarks>
/// Nested or concurrent calls (a body that itself calls For, or two threads calling For at once) do not wait for the
/// busy pool: they run their whole range on their own thread, which keeps the machine's cores busy without
/// oversubscribing them and cannot deadlock.
/// </remarks>
internal static class ParallelHelper
{
    /// <summary>Runs <paramref name="body"/>(start, end) over disjoint ranges covering [0, count).</summary>
    /// <param name="grain">Minimum items per thread worth a dispatch.</param>
    public static void For(int count, int grain, Action<int, int> body) =>
        For(count, grain, body, static (b, start, end) => b(start, end));

    /// <summary>
    /// As <see cref="For(int, int, Action{int, int})"/>, with the loop's data passed as <paramref name="state"/>, so that a
    /// static lambda (no closure) keeps hot loops such as GEMM's free of allocations.
    /// </summary>
    public static void For<TState>(int count, int grain, TState state, Action<TState, int, int> body)
    {
        if (count <= 0) return;
        int threads = Math.Min(Threads.Count, Math.Max(1, count / Math.Max(1, grain)));
        if (threads <= 1 || !WorkerPool.TryRun(threads, count, state, body))
            body(state, 0, count);
    }
}
