namespace Loom.Distributed.Tests;

/// <summary>
/// DistributedSampler: each sample once per epoch across ranks, PyTorch's padding and drop-last rules for uneven
/// sizes, the round-robin deal that makes N ranks × b equal one process × N·b; then the same through real ranks.
/// </summary>
public class SamplerTests
{
    [Theory]
    [InlineData(24, 3)]
    [InlineData(23, 3)]
    [InlineData(2, 3)]
    [InlineData(1, 1)]
    public void Padded_shards_cover_every_sample_and_repeat_only_the_first_of_the_order(int count, int ranks)
    {
        var shards = Enumerable.Range(0, ranks).Select(r => new DistributedSampler(count, r, ranks)).ToList();
        int perRank = (count + ranks - 1) / ranks;
        Assert.All(shards, s => Assert.Equal(perRank, s.Count));
        var global = new Data.RandomSampler(count).Order(9, 4);
        var visits = new int[count];
        foreach (var s in shards)
            foreach (var i in s.Order(9, 4)) visits[i]++;
        int padding = perRank * ranks - count;
        // PyTorch pads with the order's own first indices (again and again if the dataset is tiny).
        for (int pos = 0; pos < count; pos++)
            Assert.Equal(1 + padding / count + (pos < padding % count ? 1 : 0), visits[global[pos]]);
    }

    [Fact]
    public void Drop_last_cuts_the_tail_so_each_rank_gets_the_floor()
    {
        var shards = Enumerable.Range(0, 4).Select(r => new DistributedSampler(23, r, 4, dropLast: true)).ToList();
        Assert.All(shards, s => Assert.Equal(5, s.Count));
        var seen = shards.SelectMany(s => s.Order(1, 0)).ToList();
        Assert.Equal(20, seen.Distinct().Count());
        Assert.Equal(new Data.RandomSampler(23).Order(1, 0).Take(20).Order(), seen.Order());
    }

    [Fact]
    public void Batch_k_of_all_ranks_is_batch_k_of_one_process_with_the_global_batch()
    {
        const int count = 40, ranks = 4, b = 2;
        var global = new Data.RandomSampler(count).Order(3, 1);
        var shards = Enumerable.Range(0, ranks).Select(r => new DistributedSampler(count, r, ranks).Order(3, 1)).ToList();
        for (int k = 0; k < count / (ranks * b); k++)
        {
            var fromRanks = shards.SelectMany(s => s.Skip(k * b).Take(b)).Order();
            Assert.Equal(global.Skip(k * ranks * b).Take(ranks * b).Order(), fromRanks);
        }
    }

    [Fact]
    public void Each_epoch_has_a_new_order_and_no_shuffle_keeps_the_dataset_order()
    {
        var s = new DistributedSampler(100, 1, 2);
        Assert.NotEqual(s.Order(0, 0), s.Order(0, 1));
        Assert.Equal(s.Order(0, 1), new DistributedSampler(100, 1, 2).Order(0, 1));
        Assert.Equal([1, 3, 5, 7, 9], new DistributedSampler(10, 1, 2, shuffle: false).Order(0, 0));
    }

    [Fact]
    public void Bad_arguments_are_refused_with_a_message()
    {
        Assert.Contains("rank must be in 0..1", Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 2, 2)).Message);
        Assert.Contains("world size", Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 0, 0)).Message);
        Assert.Contains("either shuffle or a sampler", Assert.Throws<ArgumentException>(() =>
            new Data.DataLoader<Data.Sample>(new Data.TensorDataset(Tensor.Zeros(4, 1), Tensor.Zeros(4)), shuffle: true, sampler: new DistributedSampler(4, 0, 1))).Message);
    }

    [MpiTheory]
    [InlineData(23, "pad")]
    [InlineData(23, "drop")]
    public void Real_ranks_loading_through_DataLoaders_visit_each_sample_once_per_epoch(int count, string tail)
    {
        var job = MpiJob.Run(3, ["sampler", count.ToString(System.Globalization.CultureInfo.InvariantCulture), tail]);
        Assert.True(job.ExitCode == 0, job.ToString());
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var visits = job.Results[$"epoch{epoch}.visits"].Split(',').Select(int.Parse).ToArray();
            Assert.Equal(count, visits.Length);
            // 23 over 3 ranks: padding adds one repeat (24 visits), drop-last leaves two samples out (21).
            if (tail == "pad") Assert.True(visits.All(v => v is 1 or 2) && visits.Sum() == 24, string.Join(",", visits));
            else Assert.True(visits.All(v => v is 0 or 1) && visits.Sum() == 21, string.Join(",", visits));
        }
    }
}
