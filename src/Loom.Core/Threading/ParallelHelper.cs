namespace Loom.Threading;

/// <summary>
/// The one intra-op parallel loop of Loom. Splits [0, count) into at most <see cref="Threads.Count"/> contiguous
/// ranges and runs them concurrently; work below the grain (items per thread) stays on the calling
/// thread, because a parallel dispatch costs microseconds.
/// </summary>
internal static class ParallelHelper
{
    /// <summary>Runs <paramref name="body"/>(start, end) over disjoint ranges covering [0, count).</summary>
    /// <param name="grain">Minimum items per thread worth a dispatch.</param>
    public static void For(int count, int grain, Action<int, int> body)
    {
        if (count <= 0) return;
        int threads = Math.Min(Threads.Count, Math.Max(1, count / Math.Max(1, grain)));
        if (threads <= 1)
        {
            body(0, count);
            return;
        }
        int chunk = (count + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int start = t * chunk, end = Math.Min(count, start + chunk);
            if (start < end) body(start, end);
        });
    }
}
