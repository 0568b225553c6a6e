namespace Loom.Distributed.Tests.Host;

/// <summary>
/// Each rank loads its shard through a real DataLoader for two epochs; the ranks' visit counts are summed with
/// MPI, so rank 0 sees how often each sample was visited per epoch across the job.
/// </summary>
internal static class SamplerCoverage
{
    public static void Run(Communicator world, int count, bool dropLast)
    {
        var dataset = new TensorDataset(Tensor.FromArray(Enumerable.Range(0, count).Select(i => (float)i).ToArray(), count, 1), Tensor.Zeros(new Shape(count), DType.Int64));
        var sampler = new DistributedSampler(count, world.Rank, world.Size, shuffle: true, dropLast: dropLast);
        var loader = new DataLoader<Sample>(dataset, batchSize: 3, seed: 7, sampler: sampler, prefetch: 0);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var visits = new long[count];
            foreach (var batch in loader)
                foreach (var x in batch.Inputs.ToArray<float>()) visits[(int)x]++;
            world.AllReduce<long>(visits);
            RankHost.Result(world, $"epoch{epoch}.visits", string.Join(",", visits));
        }
    }
}
