namespace Loom.Distributed.Tests.Host;

/// <summary>
/// The program each rank runs when a test starts this assembly under mpirun (<see cref="MpiJob"/>). A scenario
/// checks what only real ranks can show and prints <c>RESULT key=value</c> lines (rank 0) for the test to judge;
/// a broken invariant is an exception, which <see cref="Mpi.RunOrAbort"/> turns into a failed job.
/// </summary>
public static class RankHost
{
    public static int Main(string[] args)
    {
        var world = Mpi.Initialize();
        world.Timeout = TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("LOOM_TEST_TIMEOUT") ?? "60", CultureInfo.InvariantCulture));
        int code = Mpi.RunOrAbort(() =>
        {
            switch (args[0])
            {
                case "collectives": Collectives.Run(world); break;
                case "bound-buckets":
                    Loom.Threads.Count = 1;
                    Collectives.UsedBuckets(world, "bound");
                    break;
                case "sampler": SamplerCoverage.Run(world, int.Parse(args[1], CultureInfo.InvariantCulture), args[2] == "drop"); break;
                case "equivalence": Equivalence.Run(world, args[1], args[2]); break;
                case "convert-refusal": Equivalence.ConvertRefusal(world); break;
                case "metrics": Metrics.Run(world); break;
                case "bandwidth": Bandwidth.Run(world, int.Parse(args[1], CultureInfo.InvariantCulture)); break;
                case "probe": Probe.Run(world, int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture)); break;
                case "throw":
                    world.Barrier();
                    if (world.Rank == world.Size - 1) throw new InvalidOperationException("the test asked this rank to fail");
                    world.Barrier();
                    break;
                case "hang":
                    if (world.Rank == world.Size - 1) Thread.Sleep(Timeout.Infinite);
                    // The barrier is a non-blocking call with a polled wait; the all-reduce is the library's blocking
                    // call, which only the watchdog can end.
                    if (args.ElementAtOrDefault(1) == "allreduce") world.AllReduce<float>(new float[1000]);
                    else world.Barrier();
                    break;
                default: throw new ArgumentException($"unknown scenario {args[0]}");
            }
            return 0;
        });
        Mpi.Shutdown();
        return code;
    }

    internal static void Result(Communicator world, string key, object value)
    {
        if (world.Rank == 0) Console.WriteLine(FormattableString.Invariant($"RESULT {key}={value}"));
    }

    internal static void Check(bool condition, string what)
    {
        if (!condition) throw new InvalidOperationException(what);
    }
}
