namespace Loom.Data;

/// <summary>
/// Iterates a dataset in mini-batches (PyTorch's <c>DataLoader</c>): batching, seeded shuffling with a new permutation
/// each epoch, drop-last, a collate function, and a background worker that prepares the next batches while the
/// consumer trains on the current one.
/// </summary>
/// <remarks>
/// <para>Each enumeration (each <c>foreach</c>) is one epoch; the epoch counter then advances, whether the enumeration
/// ran to the end or was abandoned. The permutation of epoch e depends only on (seed, e), so a run is reproducible
/// and a resumed run continues the same sequence: save <see cref="GetState"/> with a checkpoint and restore it with
/// <see cref="SetState"/>, which makes the next enumeration start at the saved epoch and batch.</para>
/// <para>With <c>prefetch</c> &gt; 0 one worker thread builds batches in order into a queue of that many batches.
/// Disposing the enumerator (leaving the <c>foreach</c> by any path) cancels and joins the worker, and
/// <see cref="WithCancellation"/> lets a token stop both; an exception the dataset or collate throws reaches the
/// consumer at the batch that failed, with its original type and stack trace. Samples are loaded on that one thread,
/// one at a time in order, so random transforms stay deterministic as long as their generators are not shared with
/// other threads.</para>
/// </remarks>
public sealed class DataLoader<T> : IEnumerable<Batch>
{
    private readonly Func<IReadOnlyList<T>, Batch>? _collate;
    private readonly IRowGather? _rows;
    private readonly object _gate = new();
    private ulong _seed;
    private int _epoch, _startBatch;
    private int _generation;           // identifies the newest enumeration; older ones stop reporting progress
    private DataLoaderState? _active;  // progress of the newest enumeration while it runs
    private int _runningWorkers;

    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch (the last batch may be smaller unless <paramref name="dropLast"/>).</param>
    /// <param name="shuffle">Visit the samples in a new seeded random order each epoch.</param>
    /// <param name="seed">Seed of the shuffle; the order of epoch e is a function of (seed, e) only.</param>
    /// <param name="dropLast">Skip the final batch when it would be smaller than <paramref name="batchSize"/>.</param>
    /// <param name="prefetch">Batches a background worker prepares ahead; 0 loads on the consumer's thread.</param>
    /// <param name="collate">Builds a batch from its samples; the default (for <see cref="Sample"/>) stacks inputs and targets.</param>
    /// <param name="sampler">Which indices each epoch visits, in which order (a <c>DistributedSampler</c>'s shard, say);
    /// the default is every index, shuffled when <paramref name="shuffle"/>. Not both.</param>
    public DataLoader(IDataset<T> dataset, int batchSize = 32, bool shuffle = false, ulong seed = 0, bool dropLast = false,
        int prefetch = 2, Func<IReadOnlyList<T>, Batch>? collate = null, ISampler? sampler = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "DataLoader: batch size must be at least 1");
        if (prefetch < 0) throw new ArgumentOutOfRangeException(nameof(prefetch), prefetch, "DataLoader: prefetch must be 0 (no worker) or more");
        BatchesAreCopies = collate is null;
        if (collate is null)
        {
            if (dataset is IRowGather { CanGather: true } rows) _rows = rows;
            else if (typeof(T) == typeof(Sample)) collate = samples => Collate.Samples((IReadOnlyList<Sample>)samples);
            else throw new ArgumentException($"DataLoader: there is no default collate for items of type {typeof(T).Name}; pass a collate function that builds a Batch");
        }
        if (sampler is not null && shuffle)
            throw new ArgumentException("DataLoader: give either shuffle or a sampler (the sampler decides the order)");
        Dataset = dataset;
        Sampler = sampler ?? (shuffle ? new RandomSampler(dataset.Count) : new SequentialSampler(dataset.Count));
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Prefetch = prefetch;
        _seed = seed;
        _collate = collate;
    }

    public IDataset<T> Dataset { get; }

    /// <summary>The indices each epoch visits, in order.</summary>
    public ISampler Sampler { get; }

    public int BatchSize { get; }

    public bool Shuffle { get; }

    public bool DropLast { get; }

    public int Prefetch { get; }

    /// <summary>
    /// Whether every batch holds new tensors, copies of its samples that nothing else refers to: true with the row
    /// gather and the default collate, false with a collate of the caller's (which may return views of the data). A
    /// consumer that is done with each batch after one step may then give its storage back to the buffer pool with
    /// <see cref="Memory.MemoryScope.Adopt"/>, as the Trainer does; otherwise every batch costs a fresh array.
    /// </summary>
    public bool BatchesAreCopies { get; }

    public ulong Seed
    {
        get { lock (_gate) return _seed; }
    }

    /// <summary>The epoch the next enumeration will run (0 for a new loader).</summary>
    public int Epoch
    {
        get { lock (_gate) return _epoch; }
    }

    /// <summary>Batches per epoch.</summary>
    public int Count => DropLast ? Sampler.Count / BatchSize : (Sampler.Count + BatchSize - 1) / BatchSize;

    /// <summary>Worker threads of this loader still running (0 once every enumeration has ended or been disposed).</summary>
    internal int RunningWorkers => Volatile.Read(ref _runningWorkers);

    /// <summary>
    /// The point to resume from: while an enumeration runs, its epoch and the batches it has handed out; otherwise
    /// the epoch and batch the next enumeration will start at.
    /// </summary>
    public DataLoaderState GetState()
    {
        lock (_gate) return _active ?? new DataLoaderState(_seed, _epoch, _startBatch);
    }

    /// <summary>Makes the next enumeration run epoch <c>state.Epoch</c> of seed <c>state.Seed</c>, starting after its first <c>state.Batch</c> batches.</summary>
    public void SetState(DataLoaderState state)
    {
        if (state.Epoch < 0) throw new ArgumentOutOfRangeException(nameof(state), state.Epoch, "DataLoader.SetState: epoch must be non-negative");
        if (state.Batch < 0 || state.Batch > Count)
            throw new ArgumentOutOfRangeException(nameof(state), state.Batch, $"DataLoader.SetState: batch {state.Batch} is outside 0..{Count} (batches per epoch)");
        lock (_gate)
        {
            (_seed, _epoch, _startBatch) = (state.Seed, state.Epoch, state.Batch);
            _active = null;
            _generation++;
        }
    }

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the dataset (0..N-1 when not shuffling).</summary>
    public int[] Order(int epoch) => Order(Seed, epoch);

    private int[] Order(ulong seed, int epoch)
    {
        var order = Sampler.Order(seed, epoch);
        if (order.Length != Sampler.Count)
            throw new InvalidOperationException($"DataLoader: the sampler returned {order.Length} indices for epoch {epoch} but says it has {Sampler.Count}");
        return order;
    }

    public IEnumerator<Batch> GetEnumerator() => Start(CancellationToken.None);

    /// <summary>
    /// The next epoch, stopping with <see cref="OperationCanceledException"/> once <paramref name="cancellationToken"/>
    /// is cancelled, also while waiting for a batch; the worker stops after the sample it is loading.
    /// </summary>
    public IEnumerable<Batch> WithCancellation(CancellationToken cancellationToken)
    {
        using var e = Start(cancellationToken);
        while (e.MoveNext()) yield return e.Current;
    }

    private IEnumerator<Batch> Start(CancellationToken cancellationToken)
    {
        int epoch, start, generation;
        ulong seed;
        lock (_gate)
        {
            (seed, epoch, start) = (_seed, _epoch, _startBatch);
            (_epoch, _startBatch) = (epoch + 1, 0);
            generation = ++_generation;
            _active = new DataLoaderState(seed, epoch, start);
        }
        var plan = new EpochPlan(this, Order(seed, epoch), seed, epoch, start, generation);
        return Prefetch == 0 ? new SyncEnumerator(plan, cancellationToken) : new PrefetchEnumerator(plan, Prefetch, cancellationToken);
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private Batch Load(int[] indices)
    {
        var batch = _rows is not null ? _rows.Gather(indices) : _collate!(new ItemList(Dataset, indices));
        return batch with { Indices = indices };
    }

    /// <summary>The batches of one epoch, and how progress is reported back to the loader.</summary>
    private sealed class EpochPlan(DataLoader<T> loader, int[] order, ulong seed, int epoch, int startBatch, int generation)
    {
        public int Next { get; private set; } = startBatch;

        public bool HasNext => Next < loader.Count;

        public Batch LoadNext()
        {
            int start = Next * loader.BatchSize;
            int[] indices = order.AsSpan(start, Math.Min(loader.BatchSize, order.Length - start)).ToArray();
            Next++;
            return loader.Load(indices);
        }

        /// <summary>The consumer has received batch <paramref name="consumed"/> − 1 of the epoch.</summary>
        public void Report(int consumed)
        {
            lock (loader._gate)
                if (loader._generation == generation) loader._active = new DataLoaderState(seed, epoch, consumed);
        }

        /// <summary>The enumeration ended (completed or abandoned): the loader's state is the next epoch again.</summary>
        public void End()
        {
            lock (loader._gate)
                if (loader._generation == generation) loader._active = null;
        }

        public void WorkerStarted() => Interlocked.Increment(ref loader._runningWorkers);

        public void WorkerStopped() => Interlocked.Decrement(ref loader._runningWorkers);
    }

    /// <summary>The samples of one batch, fetched on access so a collate sees them in order.</summary>
    private sealed class ItemList(IDataset<T> dataset, int[] indices) : IReadOnlyList<T>
    {
        private readonly T[] _items = Fetch(dataset, indices);

        private static T[] Fetch(IDataset<T> dataset, int[] indices)
        {
            var items = new T[indices.Length];
            for (int i = 0; i < items.Length; i++) items[i] = dataset[indices[i]];
            return items;
        }

        public T this[int index] => _items[index];

        public int Count => _items.Length;

        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _items.GetEnumerator();
    }

    /// <summary>
    /// One epoch's enumeration: hands out the batches <see cref="Take"/> produces, reports each to the loader, and ends
    /// the plan once, when the batches run out or the enumerator is disposed.
    /// </summary>
    private abstract class EpochEnumerator(EpochPlan plan) : IEnumerator<Batch>
    {
        private Batch? _current;
        private int _consumed = plan.Next;
        private bool _ended;

        protected EpochPlan Plan => plan;

        /// <summary>The next batch, or null after the epoch's last one.</summary>
        protected abstract Batch? Take();

        /// <summary>Releases what produces the batches; called once, before the plan ends.</summary>
        protected virtual void Stop() { }

        public Batch Current => _current ?? throw new InvalidOperationException("DataLoader: enumeration has not started or has ended");

        object System.Collections.IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (_ended) return false;
            var next = Take();
            if (next is null)
            {
                Dispose();
                return false;
            }
            _current = next;
            plan.Report(++_consumed);
            return true;
        }

        public void Reset() => throw new NotSupportedException("DataLoader: enumerate the loader again for the next epoch");

        public void Dispose()
        {
            if (_ended) return;
            _ended = true;
            _current = null;
            Stop();
            plan.End();
            GC.SuppressFinalize(this);
        }
    }

    private sealed class SyncEnumerator(EpochPlan plan, CancellationToken cancellationToken) : EpochEnumerator(plan)
    {
        protected override Batch? Take()
        {
            if (cancellationToken.IsCancellationRequested)
            {
                Dispose();
                cancellationToken.ThrowIfCancellationRequested();
            }
            return Plan.HasNext ? Plan.LoadNext() : null;
        }
    }

    private sealed class PrefetchEnumerator : EpochEnumerator
    {
        private readonly PrefetchWorker<Batch> _worker;

        public PrefetchEnumerator(EpochPlan plan, int capacity, CancellationToken cancellationToken) : base(plan)
        {
            // Started in the body, after the base has read plan.Next: the worker advances it. The worker's closure
            // holds the plan, never this enumerator, so an enumerator abandoned without Dispose can be collected and
            // its finalizer stops the worker.
            _worker = new PrefetchWorker<Batch>(capacity, () => plan.HasNext ? plan.LoadNext() : null,
                plan.WorkerStarted, plan.WorkerStopped, "Loom DataLoader prefetch", cancellationToken);
        }

        ~PrefetchEnumerator() => _worker.Cancel();

        protected override Batch? Take()
        {
            try
            {
                return _worker.Take();
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        protected override void Stop() => _worker.Dispose();
    }
}
