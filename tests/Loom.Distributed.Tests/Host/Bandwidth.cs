namespace Loom.Distributed.Tests.Host;

/// <summary>
/// All-reduce time by size: Loom's <see cref="Communicator.AllReduce{T}(Span{T}, ReduceOp)"/> (non-blocking + polled
/// wait with a timeout) against the library's own blocking MPI_Allreduce on the same buffer, interleaved so that
/// load on a shared machine hits both alike. Prints bus bandwidth (2(p−1)/p · bytes / time, the ring's traffic).
/// </summary>
internal static class Bandwidth
{
    public static void Run(Communicator world, int rounds)
    {
        foreach (int floats in new[] { 1, 1 << 10, 1 << 16, 1 << 20, 1 << 23 })
        {
            var buffer = new float[floats];
            int reps = Math.Max(3, Math.Min(1000, (1 << 24) / Math.Max(floats, 1 << 10)));
            var (loom, native) = (new List<double>(), new List<double>());
            for (int round = 0; round < rounds; round++)
            {
                loom.Add(Time(world, reps, () => world.AllReduce<float>(buffer)));
                native.Add(Time(world, reps, () => world.AllReduceBlockingNative<float>(buffer)));
            }
            double l = loom.Order().ElementAt(rounds / 2), n = native.Order().ElementAt(rounds / 2);
            double bytes = 4.0 * floats * 2 * (world.Size - 1) / world.Size;
            RankHost.Result(world, $"allreduce.{floats}", FormattableString.Invariant(
                $"loom {l * 1e6:F1} us ({bytes / l / 1e9:F2} GB/s), MPI_Allreduce {n * 1e6:F1} us ({bytes / n / 1e9:F2} GB/s), ratio {n / l:F3}"));
        }
    }

    // Mean time per call over one round; a barrier first so that the ranks start together.
    private static double Time(Communicator world, int reps, Action call)
    {
        world.Barrier();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) call();
        return clock.Elapsed.TotalSeconds / reps;
    }
}
