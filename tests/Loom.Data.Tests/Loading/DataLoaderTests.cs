namespace Loom.Data.Tests.Loading;

public class DataLoaderTests
{
    /// <summary>Inputs [n, 2] with row i = (i, −i) and targets i, so every batch row says which sample it is.</summary>
    private static TensorDataset Numbered(int n)
    {
        var x = new float[2 * n];
        for (int i = 0; i < n; i++) (x[2 * i], x[2 * i + 1]) = (i, -i);
        return new TensorDataset(Tensor.FromArray(x, n, 2), Tensor.Arange(n));
    }

    private static List<int> Seen(IEnumerable<Batch> batches)
    {
        var seen = new List<int>();
        foreach (var b in batches)
        {
            var targets = b.Targets.ToArray<long>();
            var inputs = b.Inputs.ToArray<float>();
            for (int r = 0; r < targets.Length; r++)
            {
                Assert.Equal(targets[r], (long)inputs[2 * r]);
                Assert.Equal(-inputs[2 * r], inputs[2 * r + 1]);
                Assert.Equal(b.Indices[r], (int)targets[r]);
            }
            seen.AddRange(targets.Select(t => (int)t));
        }
        return seen;
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 2)]
    [InlineData(1, 0)]
    [InlineData(17, 2)]
    [InlineData(257, 0)]
    [InlineData(257, 3)]
    public void Every_sample_appears_exactly_once_per_epoch(int n, int prefetch)
    {
        var loader = new DataLoader<Sample>(Numbered(n), batchSize: 8, shuffle: true, seed: 7, prefetch: prefetch);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var seen = Seen(loader);
            Assert.Equal(Enumerable.Range(0, n), seen.Order());
        }
        Assert.Equal(2, loader.Epoch);
    }

    [Fact]
    public void Batches_have_the_batch_size_except_a_smaller_last_one()
    {
        var loader = new DataLoader<Sample>(Numbered(17), batchSize: 5);
        var sizes = loader.Select(b => b.Size).ToArray();
        Assert.Equal(new[] { 5, 5, 5, 2 }, sizes);
        Assert.Equal(4, loader.Count);
        Assert.Equal(new Shape(5, 2), loader.First().Inputs.Shape);
    }

    [Fact]
    public void Drop_last_skips_the_incomplete_batch()
    {
        var loader = new DataLoader<Sample>(Numbered(17), batchSize: 5, shuffle: true, dropLast: true);
        var batches = loader.ToList();
        Assert.Equal(3, loader.Count);
        Assert.Equal(3, batches.Count);
        Assert.All(batches, b => Assert.Equal(5, b.Size));
        Assert.Equal(15, batches.SelectMany(b => b.Indices).Distinct().Count());
    }

    [Fact]
    public void Without_shuffle_the_order_is_the_dataset_order()
    {
        var loader = new DataLoader<Sample>(Numbered(10), batchSize: 3);
        Assert.Equal(Enumerable.Range(0, 10), Seen(loader));
        Assert.Equal(Enumerable.Range(0, 10), Seen(loader));
    }

    [Fact]
    public void Same_seed_gives_the_same_order_and_epochs_differ()
    {
        List<int>[] Run(ulong seed)
        {
            var loader = new DataLoader<Sample>(Numbered(100), batchSize: 16, shuffle: true, seed: seed);
            return [Seen(loader), Seen(loader), Seen(loader)];
        }
        var a = Run(42);
        var b = Run(42);
        var c = Run(43);
        for (int e = 0; e < 3; e++) Assert.Equal(a[e], b[e]);
        Assert.NotEqual(a[0], a[1]);
        Assert.NotEqual(a[1], a[2]);
        Assert.NotEqual(a[0], c[0]);
        Assert.NotEqual(Enumerable.Range(0, 100), a[0]);
    }

    [Fact]
    public void Prefetch_and_synchronous_loading_give_the_same_batches()
    {
        var sync = new DataLoader<Sample>(Numbered(50), batchSize: 7, shuffle: true, seed: 3, prefetch: 0);
        var pre = new DataLoader<Sample>(Numbered(50), batchSize: 7, shuffle: true, seed: 3, prefetch: 2);
        Assert.Equal(Seen(sync), Seen(pre));
    }

    [Fact]
    public void A_restored_state_continues_the_same_sequence_mid_epoch()
    {
        var reference = new DataLoader<Sample>(Numbered(40), batchSize: 6, shuffle: true, seed: 11);
        var expected = Seen(reference).Concat(Seen(reference)).ToList();

        // Run one full epoch and 3 batches of the second, checkpointing the state after the third.
        var first = new DataLoader<Sample>(Numbered(40), batchSize: 6, shuffle: true, seed: 11);
        var before = Seen(first);
        DataLoaderState saved = default;
        int k = 0;
        foreach (var b in first)
        {
            before.AddRange(b.Indices);
            if (++k == 3)
            {
                saved = first.GetState();
                break;
            }
        }
        Assert.Equal(new DataLoaderState(11, 1, 3), saved);

        var resumed = new DataLoader<Sample>(Numbered(40), batchSize: 6, shuffle: true, seed: 0);
        resumed.SetState(saved);
        var after = Seen(resumed);
        Assert.Equal(expected, before.Concat(after));
        Assert.Equal(new DataLoaderState(11, 2, 0), resumed.GetState());
    }

    [Fact]
    public void Abandoning_an_enumeration_starts_the_next_epoch()
    {
        var loader = new DataLoader<Sample>(Numbered(30), batchSize: 4, shuffle: true, seed: 5);
        var first = loader.First();
        Assert.Equal(new DataLoaderState(5, 1, 0), loader.GetState());
        Assert.Equal(loader.Order(1).Take(4), Seen(loader).Take(4));
        Assert.Equal(loader.Order(0).Take(4), first.Indices);
    }

    [Fact]
    public void Custom_collate_receives_the_samples_of_each_batch()
    {
        var data = new ListDataset<int>(Enumerable.Range(0, 10).ToArray());
        var loader = new DataLoader<int>(data, batchSize: 4, collate: items =>
            new Batch(Tensor.FromArray(items.Select(i => (float)i).ToArray()), Tensor.FromArray(items.Select(i => (long)i * 2).ToArray())));
        var batches = loader.ToList();
        Assert.False(loader.BatchesAreCopies); // a collate of the caller's may return views of the data
        Assert.Equal(new float[] { 8, 9 }, batches[2].Inputs.ToArray<float>());
        Assert.Equal(new long[] { 16, 18 }, batches[2].Targets.ToArray<long>());
    }

    [Fact]
    public void Items_without_a_default_collate_are_refused_naming_the_type()
    {
        var data = new ListDataset<string>(["a"]);
        TensorAssert.Throws<ArgumentException>(() => new DataLoader<string>(data), "String", "collate");
    }

    [Fact]
    public void Default_collate_stacks_computed_samples_of_any_layout()
    {
        // A mapped dataset has no row fast path: samples go through Collate.Samples, including non-contiguous ones.
        var baseData = Numbered(9);
        var mapped = baseData.Map(s => new Sample(TestTensors.NonContiguous(s.Input.Reshape(1, 2)), s.Target));
        var loader = new DataLoader<Sample>(mapped, batchSize: 9, prefetch: 0);
        var batch = loader.Single();
        Assert.True(loader.BatchesAreCopies);
        Assert.True(new DataLoader<Sample>(baseData).BatchesAreCopies); // the row gather copies too
        Assert.Equal(new Shape(9, 1, 2), batch.Inputs.Shape);
        Assert.True(batch.Inputs.IsContiguous);
        Assert.Equal(baseData.Inputs.ToArray<float>(), batch.Inputs.ToArray<float>());
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), batch.Targets.ToArray<long>());
    }

    [Fact]
    public void Prefetch_propagates_a_dataset_exception_and_stops_its_worker()
    {
        var data = new ListDataset<int>(Enumerable.Range(0, 100).ToArray(), failAt: 37);
        var loader = new DataLoader<int>(data, batchSize: 10, prefetch: 2, collate: Sum);
        var seen = new List<float>();
        var ex = Assert.Throws<DataFailure>(() =>
        {
            foreach (var b in loader) seen.Add(b.Inputs.ToArray<float>()[0]);
        });
        Assert.Contains("item 37", ex.Message);
        Assert.Contains(nameof(ListDataset<int>), ex.StackTrace); // the original stack, not a wrapper's
        Assert.Equal(3, seen.Count);                                // batches before the failing one arrive first
        Assert.Equal(0, loader.RunningWorkers);
    }

    [Fact]
    public void Breaking_out_of_the_loop_stops_the_worker()
    {
        var data = new ListDataset<int>(Enumerable.Range(0, 1000).ToArray());
        var loader = new DataLoader<int>(data, batchSize: 1, prefetch: 4, collate: Sum);
        foreach (var b in loader)
        {
            Assert.Equal(1, loader.RunningWorkers);
            break;
        }
        Assert.Equal(0, loader.RunningWorkers);
    }

    [Fact]
    public void An_enumerator_abandoned_without_dispose_stops_its_worker_when_collected()
    {
        var data = new ListDataset<int>(Enumerable.Range(0, 1000).ToArray());
        var loader = new DataLoader<int>(data, batchSize: 1, prefetch: 2, collate: Sum);
        StartAndDrop(loader);
        for (int i = 0; i < 100 && loader.RunningWorkers > 0; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Thread.Sleep(10);
        }
        Assert.Equal(0, loader.RunningWorkers);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void StartAndDrop(DataLoader<int> loader)
    {
        var e = loader.GetEnumerator();
        Assert.True(e.MoveNext());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Cancellation_stops_a_consumer_waiting_for_a_slow_batch_and_the_worker(int prefetch)
    {
        var data = new ListDataset<int>(Enumerable.Range(0, 100).ToArray(), delayFrom: 2, delayMs: 50);
        var loader = new DataLoader<int>(data, batchSize: 1, prefetch: prefetch, collate: Sum);
        using var cts = new CancellationTokenSource();
        int seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var b in loader.WithCancellation(cts.Token))
                if (++seen == 2) cts.Cancel();
        });
        Assert.Equal(2, seen);
        Assert.Equal(0, loader.RunningWorkers);
        Assert.True(data.Fetched < 10, $"the worker kept loading after cancellation ({data.Fetched} items)");
        Assert.Equal(1, loader.Epoch);
    }

    [Fact]
    public void Loading_overlaps_with_the_consumer()
    {
        // The worker must have produced batch k+1 while the consumer still holds batch k.
        var data = new ListDataset<int>(Enumerable.Range(0, 8).ToArray());
        var loader = new DataLoader<int>(data, batchSize: 1, prefetch: 2, collate: Sum);
        using var e = loader.GetEnumerator();
        Assert.True(e.MoveNext());
        Assert.True(SpinWait.SpinUntil(() => data.Fetched >= 3, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Invalid_arguments_are_refused()
    {
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new DataLoader<Sample>(Numbered(3), batchSize: 0), "batch size");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new DataLoader<Sample>(Numbered(3), prefetch: -1), "prefetch");
        var loader = new DataLoader<Sample>(Numbered(3), batchSize: 2);
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => loader.SetState(new DataLoaderState(0, 0, 3)), "batch 3", "0..2");
    }

    private static Batch Sum(IReadOnlyList<int> items) =>
        new(Tensor.FromArray(new float[] { items.Sum() }), Tensor.FromArray(new long[] { items.Count }));

    private sealed class DataFailure(string message) : Exception(message);

    private sealed class ListDataset<T>(T[] items, int failAt = -1, int delayFrom = int.MaxValue, int delayMs = 0) : IDataset<T>
    {
        private int _fetched;

        public int Fetched => Volatile.Read(ref _fetched);

        public int Count => items.Length;

        public T this[int index]
        {
            get
            {
                Interlocked.Increment(ref _fetched);
                if (index == failAt) throw new DataFailure($"cannot load item {index}");
                if (index >= delayFrom) Thread.Sleep(delayMs);
                return items[index];
            }
        }
    }
}
