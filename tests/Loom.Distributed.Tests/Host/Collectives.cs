using Loom.Models;

namespace Loom.Distributed.Tests.Host;

/// <summary>
/// Collectives against sums computed locally: every rank's input is seeded by its rank, so each rank can rebuild all
/// the others' inputs and the reference sum in float64 without communicating.
/// </summary>
internal static class Collectives
{
    private static float[] Values(int rank, int salt, int n) =>
        Tensor.Randn(new Shape(n), new Generator((ulong)(1000 * rank + salt))).ToArray<float>();

    public static void Run(Communicator world)
    {
        // One compute thread per rank, as `loom launch` gives 2 ranks on 2 cores: here 3 ranks share them unbound, so
        // each has cores beyond its thread and DDP overlaps the all-reduce with backward.
        Loom.Threads.Count = 1;
        RankHost.Result(world, "size", world.Size);

        // Blocking all-reduce of several lengths (0, 1, odd, large), float and double, sum/max/min.
        foreach (int n in new[] { 0, 1, 17, 100_003 })
        {
            var mine = Values(world.Rank, n, n);
            var sum = (float[])mine.Clone();
            world.AllReduce<float>(sum);
            var max = (float[])mine.Clone();
            world.AllReduce<float>(max, ReduceOp.Max);
            var asDouble = mine.Select(v => (double)v).ToArray();
            world.AllReduce<double>(asDouble);
            var everyRank = Enumerable.Range(0, world.Size).Select(r => Values(r, n, n)).ToArray();
            double worst = 0;
            for (int i = 0; i < n; i++)
            {
                double reference = 0;
                float refMax = float.NegativeInfinity;
                for (int r = 0; r < world.Size; r++)
                {
                    float v = everyRank[r][i];
                    reference += v;
                    refMax = Math.Max(refMax, v);
                }
                worst = Math.Max(worst, Math.Abs(sum[i] - reference));
                RankHost.Check(max[i] == refMax, $"max of element {i}: {max[i]} != {refMax}");
                RankHost.Check(Math.Abs(asDouble[i] - reference) < 1e-12, $"double sum of element {i}");
            }
            RankHost.Result(world, $"allreduce{n}.maxerr", worst.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }

        long[] ranks = [world.Rank, 1];
        world.AllReduce<long>(ranks);
        RankHost.Check(ranks[0] == (long)world.Size * (world.Size - 1) / 2 && ranks[1] == world.Size, "long sum of ranks");

        // Broadcast: every rank ends with rank 0's values.
        var b = Values(world.Rank, 5, 1000);
        world.Broadcast<float>(b);
        RankHost.Check(b.SequenceEqual(Values(0, 5, 1000)), "broadcast from rank 0");

        // Non-blocking: start two, wait in the opposite order.
        var first = Values(world.Rank, 6, 5000);
        var second = Values(world.Rank, 7, 5000);
        var r1 = world.AllReduceAsync<float>(first);
        var r2 = world.AllReduceAsync<float>(second);
        r2.Wait();
        r1.Wait();
        RankHost.Check(r1.IsCompleted && r2.Test(), "requests complete");
        var reference1 = Enumerable.Range(0, world.Size).Select(r => Values(r, 6, 5000)).Aggregate(new double[5000], (acc, v) => { for (int i = 0; i < v.Length; i++) acc[i] += v[i]; return acc; });
        RankHost.Result(world, "async.maxerr", first.Select((v, i) => Math.Abs(v - reference1[i])).Max().ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        world.Barrier();

        BucketedGradients(world);
        GptBuckets(world);
    }

    // The benchmark's GPT (4 layers, d 256, vocab 4096: 17 MB of gradients) under DDP's default bucket rule: several
    // buckets, all but the last started during backward, and the average of every rank's true gradient.
    private static void GptBuckets(Communicator world)
    {
        var config = new GptConfig(GeluTanh: false);
        Generator.ManualSeed(11);
        var gpt = new Gpt(config);
        using var ddp = new DistributedDataParallel(gpt, world);
        (Tensor Tokens, Tensor Targets) Batch(int rank)
        {
            var g = new Generator((ulong)(900 + rank));
            return (Tensor.Randint(0, config.Vocab, new Shape(1, 16), g), Tensor.Randint(0, config.Vocab, new Shape(1, 16), g));
        }
        Tensor Loss(Gpt model, int rank)
        {
            var (tokens, targets) = Batch(rank);
            return Functional.CrossEntropy(model.Forward(tokens).Reshape(-1, config.Vocab), targets.Reshape(-1));
        }
        // The reference: a replica of the broadcast weights, without DDP, runs every rank's batch here.
        var replica = new Gpt(config);
        replica.LoadStateDict(gpt.StateDict());
        var names = replica.NamedParameters().Select(p => p.Name).ToList();
        var mean = names.ToDictionary(n => n, n => new double[replica.NamedParameters().First(p => p.Name == n).Parameter.Numel]);
        for (int r = 0; r < world.Size; r++)
        {
            replica.ZeroGrad();
            Loss(replica, r).Backward();
            foreach (var (name, p) in replica.NamedParameters())
            {
                var grad = p.Grad!.ToArray<float>();
                for (int k = 0; k < grad.Length; k++) mean[name][k] += grad[k] / (double)world.Size;
            }
        }
        Loss(gpt, world.Rank).Backward();
        ddp.SynchronizeGradients();
        double worst = 0, largest = 0;
        foreach (var (name, p) in gpt.NamedParameters())
        {
            var got = p.Grad!.ToArray<float>();
            for (int k = 0; k < got.Length; k++)
            {
                worst = Math.Max(worst, Math.Abs(got[k] - mean[name][k]));
                largest = Math.Max(largest, Math.Abs(mean[name][k]));
            }
        }
        RankHost.Result(world, "gpt.relerr", (worst / largest).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        RankHost.Result(world, "gpt.buckets", ddp.BucketBytes.Count);
        RankHost.Result(world, "gpt.bucketBytes", string.Join(",", ddp.BucketBytes));
        RankHost.Result(world, "gpt.launchedDuringBackward", ddp.BucketsLaunchedDuringBackward);
        // The CLI's Fashion-MNIST CNN (1.7 MB) stays one bucket, all-reduced on the training thread after backward.
        using var cnn = new DistributedDataParallel(ModelZoo.SmallCnn((1, 28, 28), 10), world);
        RankHost.Result(world, "cnn.buckets", cnn.BucketBytes.Count);
    }

    // A module of parameters of awkward sizes; loss = Σ_i Σ(p_i ⊙ c_i) with c_i seeded by rank, so each rank's
    // gradient of p_i is c_i and DDP must leave mean_r(c_i) in every replica.
    private sealed class Bag : Module
    {
        public Bag(int rank, bool withUnused = true)
        {
            // Registered first, so it lands in the last bucket: buckets start in order, and one waiting for a
            // parameter backward never reaches would hold back every bucket after it until SynchronizeGradients.
            if (withUnused) RegisterParameter("unused", new Parameter(Tensor.Ones(new Shape(10))));
            int[][] shapes = [[3], [257, 5], [1], [4000], [2, 3, 4], [999]];
            for (int i = 0; i < shapes.Length; i++)
                RegisterParameter($"p{i}", new Parameter(Tensor.Randn(new Shape(shapes[i]), new Generator((ulong)(77 + rank * 10 + i)))));
        }
    }

    private static void BucketedGradients(Communicator world)
    {
        var bag = new Bag(world.Rank);
        // 4 KB buckets: several buckets, one parameter larger than the cap, a bucket launched during backward.
        using var ddp = new DistributedDataParallel(bag, world, bucketCapBytes: 4096);
        var rank0 = new Bag(0);
        foreach (var ((name, p), (_, q)) in bag.NamedParameters().Zip(rank0.NamedParameters()))
            RankHost.Check(p.ToArray<float>().SequenceEqual(q.ToArray<float>()), $"parameter {name} was not broadcast from rank 0");

        var parameters = bag.NamedParameters().Where(p => p.Name != "unused").Select(p => p.Parameter).ToList();
        double SyncedError(IReadOnlyList<Tensor> ps, DistributedDataParallel d) => Collectives.SyncedError(world, ps, d);

        // Step 0 starts with no gradients (copied into the buckets); steps 1 and 2 zero them in place, so backward
        // accumulates straight into the buckets the gradients are views of.
        for (int step = 0; step < 3; step++)
        {
            bag.ZeroGrad(setToNone: step == 0);
            double worst = SyncedError(parameters, ddp);
            var unused = bag.NamedParameters().Single(p => p.Name == "unused").Parameter.Grad;
            RankHost.Check(unused is not null && unused.ToArray<float>().All(v => v == 0), "an unused parameter leaves with a zero gradient");
            RankHost.Result(world, $"ddp.step{step}.maxerr", Exact(worst));
            RankHost.Result(world, $"ddp.step{step}.launchedDuringBackward", ddp.BucketsLaunchedDuringBackward);
        }
        RankHost.Result(world, "ddp.buckets", ddp.BucketBytes.Count);
        RankHost.Result(world, "ddp.bucketBytes", string.Join(",", ddp.BucketBytes));

        // Every parameter used: every bucket fills during backward. The last (the first layers, full only as backward
        // ends) is left for SynchronizeGradients to run on this thread; the others start on the communication thread.
        UsedBuckets(world, "ddpUsed");
    }

    private static string Exact(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    private static Tensor Coefficients(IReadOnlyList<Tensor> ps, int rank, int i) => Tensor.Randn(ps[i].Shape, new Generator((ulong)(5000 + rank * 100 + i)));

    // Backward of this rank's loss, then the sync: the largest gap between a gradient and mean_r(c_i).
    private static double SyncedError(Communicator world, IReadOnlyList<Tensor> ps, DistributedDataParallel d)
    {
        Tensor loss = Tensor.Zeros(new Shape());
        for (int i = 0; i < ps.Count; i++) loss = loss.Add(ps[i].Mul(Coefficients(ps, world.Rank, i)).Sum());
        loss.Backward();
        d.SynchronizeGradients();
        double worst = 0;
        for (int i = 0; i < ps.Count; i++)
        {
            var got = ps[i].Grad!.ToArray<float>();
            var all = Enumerable.Range(0, world.Size).Select(r => Coefficients(ps, r, i).ToArray<float>()).ToArray();
            for (int k = 0; k < got.Length; k++)
                worst = Math.Max(worst, Math.Abs(got[k] - all.Sum(c => (double)c[k]) / world.Size));
        }
        return worst;
    }

    /// <summary>
    /// A model whose every parameter backward reaches, in 4-KB buckets: the average's error, the buckets, how many
    /// started during backward (on every rank), the most cores any rank may use and how many ranks run a communication
    /// thread.
    /// </summary>
    public static void UsedBuckets(Communicator world, string prefix)
    {
        var used = new Bag(world.Rank, withUnused: false);
        using var ddp = new DistributedDataParallel(used, world, bucketCapBytes: 4096);
        RankHost.Result(world, $"{prefix}.maxerr", Exact(SyncedError(world, [.. used.Parameters()], ddp)));
        RankHost.Result(world, $"{prefix}.buckets", ddp.BucketBytes.Count);
        bool communicationThread = Directory.GetDirectories("/proc/self/task")
            .Any(t => File.ReadAllText(Path.Combine(t, "comm")).Trim().StartsWith("loom-mpi-commun", StringComparison.Ordinal));
        double[] launched = [ddp.BucketsLaunchedDuringBackward, communicationThread ? 1 : 0];
        world.AllReduce<double>(launched);
        int[] cores = [Environment.ProcessorCount];
        world.AllReduce<int>(cores, ReduceOp.Max);
        RankHost.Result(world, $"{prefix}.launchedDuringBackward", launched[0] / world.Size);
        RankHost.Result(world, $"{prefix}.communicationThreads", launched[1]);
        RankHost.Result(world, $"{prefix}.cores", cores[0]);
    }
}
