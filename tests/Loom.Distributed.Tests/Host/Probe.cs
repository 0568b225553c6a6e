using System.Numerics.Tensors;

namespace Loom.Distributed.Tests.Host;

/// <summary>
/// Where an all-reduce of one size spends its time (`Loom.Distributed.Tests.dll probe MB reps` under mpirun): the
/// library's blocking MPI_Allreduce, Loom's <see cref="Communicator.AllReduce{T}"/>, libnbc's MPI_Iallreduce with a
/// polled wait, a division pass alone, and the blocking call handed to another thread. Not run by the tests.
/// </summary>
internal static class Probe
{
    public static void Run(Communicator world, int megabytes, int reps)
    {
        int n = megabytes << 18;
        var buffer = new float[n];
        Array.Fill(buffer, 1f);
        var weight = new Loom.Nn.Parameter(Tensor.Zeros(n));
        var holder = new Holder(weight);
        var ddp = new DistributedDataParallel(holder, world, bucketCapBytes: n * 4);
        var ones = Tensor.Ones(n);
        void backward()
        {
            using var scope = new Loom.Memory.MemoryScope();
            weight.Grad?.AsSpan<float>().Clear();
            (weight * ones).Sum().Backward();
            world.Barrier();
        }
        var ops = new (string, Action)[]
        {
            ("MPI_Allreduce (tuned, blocking)", () => world.AllReduceBlockingNative<float>(buffer)),
            ("AllReduce (tuned + watchdog)", () => world.AllReduce<float>(buffer)),
            ("MPI_Iallreduce + polled Wait (libnbc)", () => world.AllReduceAsync<float>(buffer).Wait()),
            ("multiply by 1/2 alone", () => TensorPrimitives.Multiply(buffer, 0.5f, buffer)),
            ("MPI_Allreduce on a worker thread", () => Task.Run(() => world.AllReduceBlockingNative<float>(buffer)).Wait()),
            ("DDP SynchronizeGradients after an untimed backward", ddp.SynchronizeGradients),
        };
        for (int round = 0; round < 2; round++)
            foreach (var (name, op) in ops)
            {
                bool afterBackward = name.StartsWith("DDP", StringComparison.Ordinal);
                for (int i = 0; i < 3; i++)
                {
                    if (afterBackward) backward();
                    op();
                }
                world.Barrier();
                var t = new double[reps];
                for (int i = 0; i < reps; i++)
                {
                    if (afterBackward) backward();
                    long t0 = Stopwatch.GetTimestamp();
                    op();
                    t[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                }
                Array.Sort(t);
                RankHost.Result(world, $"probe.{megabytes}MB.{name.Replace(' ', '_')}", FormattableString.Invariant($"median {t[reps / 2]:F3} ms min {t[0]:F3} ms"));
            }
    }

    private sealed class Holder : Loom.Nn.Module
    {
        public Holder(Loom.Nn.Parameter weight)
        {
            RegisterParameter("weight", weight);
            RegisterParameter("anchor", new Loom.Nn.Parameter(Tensor.Zeros(1)));
        }
    }
}
