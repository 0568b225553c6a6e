namespace Loom.Distributed.Tests.Host;

/// <summary>
/// A rank that reaches a collective long before the others must wait without burning its core: on a machine with as
/// many cores as ranks, a spinning waiter takes the core that the late rank's own threads (data loader, JIT, GC) need.
/// The last rank arrives <see cref="LateSeconds"/> late at a barrier and at a gradient bucket's all-reduce (queued on
/// the communication thread during backward); rank 0 reports how long it waited and the CPU time it spent meanwhile.
/// </summary>
internal static class IdleWait
{
    public const double LateSeconds = 2;

    public static void Run(Communicator world)
    {
        Generator.ManualSeed(1);
        var model = new Linear(64, 64);
        using var ddp = new DistributedDataParallel(model, world);
        var x = Tensor.Randn(new Shape(8, 64), new Generator(2));
        void Step()
        {
            model.ZeroGrad();
            model.Forward(x).Sum().Backward();
            ddp.SynchronizeGradients();
        }
        // Warm: JIT-compiled, the buckets' views in place, every rank here.
        Step();
        world.Barrier();

        Measure(world, "barrier", world.Barrier);
        Measure(world, "bucket", Step);
        RankHost.Check(ddp.BucketsLaunchedDuringBackward == ddp.BucketBytes.Count, "the bucket's all-reduce started during backward");
    }

    private static void Measure(Communicator world, string name, Action collective)
    {
        if (world.Rank == world.Size - 1) Thread.Sleep(TimeSpan.FromSeconds(LateSeconds));
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        collective();
        double wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        RankHost.Result(world, $"{name}.wait_s", wall.ToString("R", CultureInfo.InvariantCulture));
        RankHost.Result(world, $"{name}.cpu_s", (process.TotalProcessorTime - cpu).TotalSeconds.ToString("R", CultureInfo.InvariantCulture));
    }
}
