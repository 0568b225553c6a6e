using Loom.Train;

namespace Loom.Distributed;

/// <summary>
/// Data parallelism for any module (PyTorch's <c>DistributedDataParallel</c>, Horovod's bucketed all-reduce): every
/// rank holds a full replica, trains on its own shard of each batch, and after backward every replica holds the
/// gradient averaged over all ranks, so every optimiser step is identical everywhere.
/// </summary>
/// <remarks>
/// <para>At construction, parameters and buffers are broadcast from rank 0, so the replicas start equal whatever each
/// rank's initialisation did.</para>
/// <para>Gradients are grouped into buckets of about <c>bucketCapBytes</c> (by default an eighth of the model's
/// gradients, 2 to 25 MB), in reverse registration order (roughly the order backward produces them). A hook on each
/// parameter (<see cref="Tensor.RegisterPostAccumulateGradHook"/>) divides the gradient by the number of ranks while
/// it is in cache and counts it ready; a full bucket's all-reduce starts at once on the communicator's communication
/// thread (the library's blocking MPI_Allreduce there), while
/// backward goes on with the layers below, so communication overlaps computation. The last bucket fills only as
/// backward ends, so it runs on the caller's thread in <see cref="SynchronizeGradients"/>. Buckets start strictly in order,
/// which keeps the collectives in the same order on every rank. <see cref="SynchronizeGradients"/> (after backward,
/// before the optimiser step) runs what is left (parameters that took no part in this forward, and the last bucket),
/// waits, and leaves the average in each gradient.</para>
/// <para>A parameter with no gradient on a rank contributes zeros and leaves with the averaged gradient, so all
/// replicas agree on which parameters have one. Set <see cref="RequireGradientSync"/> to false on the micro-steps of
/// gradient accumulation: they accumulate locally with no communication (PyTorch's <c>no_sync()</c>).</para>
/// <para>Batch-norm statistics are per rank unless the model uses SyncBatchNorm; the running buffers
/// are broadcast again from rank 0 by <see cref="BroadcastBuffers"/> (the Trainer does it before evaluating and
/// saving), as PyTorch's <c>broadcast_buffers</c> does at each forward.</para>
/// </remarks>
public sealed class DistributedDataParallel : IDataParallel, IDisposable
{
    /// <summary>
    /// The largest bucket the default rule makes, PyTorch's default bucket size: large enough that a collective's
    /// latency is amortised.
    /// </summary>
    public const int DefaultBucketCapBytes = 25 << 20;

    // The default rule's floor. A bucket handed to the communication thread costs two thread hand-offs and a thread
    // that waits in MPI_Allreduce for the other ranks while backward runs; under ~2 MB (~0.6 ms of all-reduce between
    // two ranks) that costs more than it overlaps: splitting the CLI's 1.7-MB CNN in two took its real training loop
    // from 1.69x to 1.38x one rank on 2 ranks of a 2-core machine (Note [Distributed], session 27).
    private const int MinimumDefaultBucketCapBytes = 2 << 20;

    // Buckets per model under the default rule. The last bucket (the first layers) fills only as backward ends, so its
    // all-reduce is all that cannot overlap backward: with the whole model in one bucket, as PyTorch's 25 MB gives any
    // model under 25 MB (GPT 4L's 17 MB), none of it overlapped (Note [Distributed], session 27).
    private const int DefaultBucketsPerModel = 8;

    private readonly IGradientBucket[] _buckets;
    private readonly Dictionary<Parameter, (IGradientBucket Bucket, int Index)> _bucketOf = new(ReferenceEqualityComparer.Instance);
    private readonly List<IDisposable> _hooks = [];
    private int _nextToLaunch;

    /// <param name="model">The replica on this rank.</param>
    /// <param name="communicator">The ranks that train together (<see cref="Mpi.World"/>).</param>
    /// <param name="bucketCapBytes">Gradient bytes per all-reduce (the last parameter of a bucket may take it past);
    /// by default an eighth of the model's gradient bytes, at least 2 MB and at most <see cref="DefaultBucketCapBytes"/>,
    /// so that a small model's all-reduce overlaps backward too.</param>
    public DistributedDataParallel(Module model, Communicator communicator, int? bucketCapBytes = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(communicator);
        if (bucketCapBytes < 1) throw new ArgumentOutOfRangeException(nameof(bucketCapBytes), bucketCapBytes, "DistributedDataParallel: the bucket cap must be at least 1 byte");
        Module = model;
        Communicator = communicator;
        BroadcastParameters();
        BroadcastBuffers();
        var parameters = model.Parameters().Where(p => p.RequiresGrad).Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>().Reverse().ToList();
        long gradientBytes = parameters.Sum(p => (long)p.Numel * p.DType.SizeInBytes());
        _buckets = [.. Bucketize(parameters, bucketCapBytes ?? DefaultBucketCap(gradientBytes))];
        foreach (var bucket in _buckets)
            for (int i = 0; i < bucket.Parameters.Count; i++)
            {
                _bucketOf[bucket.Parameters[i]] = (bucket, i);
                _hooks.Add(bucket.Parameters[i].RegisterPostAccumulateGradHook(OnGradientReady));
            }
    }

    public Module Module { get; }

    public Communicator Communicator { get; }

    public int Rank => Communicator.Rank;

    public int WorldSize => Communicator.Size;

    public void SumAcrossRanks(Span<double> values) => Communicator.AllReduce(values);

    /// <summary>False during the micro-steps of gradient accumulation: gradients then accumulate locally only.</summary>
    public bool RequireGradientSync { get; set; } = true;

    /// <summary>The buckets' sizes in bytes, in launch order.</summary>
    public IReadOnlyList<long> BucketBytes => [.. _buckets.Select(b => b.Bytes)];

    /// <summary>
    /// Whether full buckets start their all-reduce on the communication thread during backward: only when this process
    /// has a core beyond its compute threads (<see cref="Loom.Threads.Count"/>). A rank with none (one thread on the one
    /// core <c>loom launch</c> binds it to) runs every bucket on the training thread in
    /// <see cref="SynchronizeGradients"/>: the all-reduce's copying and summing take the same core whichever thread does
    /// them, and a communication thread waiting in MPI_Allreduce for the other ranks, spinning as OpenMPI's blocking
    /// calls do, would take that core from backward. Measured on 2 ranks bound to the 2 cores of a machine, GPT 4L's
    /// step: 1.01× with the buckets run after backward (Note [Distributed], session 28).
    /// </summary>
    internal static bool OverlapsCommunication => Environment.ProcessorCount > Loom.Threads.Count;

    /// <summary>Buckets whose all-reduce started during the last backward, before <see cref="SynchronizeGradients"/>.</summary>
    public int BucketsLaunchedDuringBackward { get; private set; }

    /// <summary>
    /// Finishes the gradient all-reduce of this step: starts the buckets backward did not fill, waits for every one,
    /// and leaves the average over ranks in each parameter's <c>Grad</c>. Call it after backward, before the
    /// optimiser step; it does nothing while <see cref="RequireGradientSync"/> is false.
    /// </summary>
    public void SynchronizeGradients()
    {
        if (!RequireGradientSync) return;
        BucketsLaunchedDuringBackward = _nextToLaunch;
        // What backward did not start runs here on the caller's thread: handing it to the communication thread only to
        // wait for it would add two thread hand-offs. Communicator.AllReduce first waits for the buckets in flight, so
        // the order of collectives is the same on every rank.
        foreach (var bucket in _buckets) bucket.MarkAllReady();
        LaunchReadyBuckets(inBackground: false);
        foreach (var bucket in _buckets) bucket.Finish();
        _nextToLaunch = 0;
    }

    /// <summary>Copies rank 0's parameters into every replica.</summary>
    public void BroadcastParameters()
    {
        foreach (var p in Module.Parameters().Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>())
            Broadcast(p);
    }

    /// <summary>Copies rank 0's buffers (batch-norm running statistics…) into every replica.</summary>
    public void BroadcastBuffers()
    {
        foreach (var (_, buffer) in Module.NamedBuffers()) Broadcast(buffer);
    }

    private void Broadcast(Tensor t)
    {
        using var noGrad = new Autograd.NoGrad();
        switch (t.DType)
        {
            case DType.Float32: Communicator.Broadcast(t.AsSpan<float>()); break;
            case DType.Float64: Communicator.Broadcast(t.AsSpan<double>()); break;
            case DType.Int32: Communicator.Broadcast(t.AsSpan<int>()); break;
            case DType.Int64: Communicator.Broadcast(t.AsSpan<long>()); break;
            case DType.UInt8: Communicator.Broadcast(t.AsSpan<byte>()); break;
            default: throw new NotSupportedException($"DistributedDataParallel: cannot broadcast a {t.DType.Name()} tensor");
        }
    }

    private void OnGradientReady(Tensor parameter)
    {
        if (!RequireGradientSync) return;
        var (bucket, index) = _bucketOf[(Parameter)parameter];
        bucket.GradientReady(index, Communicator.Size);
        LaunchReadyBuckets(inBackground: true);
    }

    private void LaunchReadyBuckets(bool inBackground)
    {
        // The last bucket holds the first layers' gradients, the last ones backward makes: once it is full, backward
        // is over and nothing is left to overlap with. It waits for SynchronizeGradients, which runs it on the
        // training thread. Handed to the communication thread it cost two thread hand-offs, and on a machine with a
        // core per rank that thread, spinning in MPI_Allreduce for the other rank, was a third runnable thread, which
        // the scheduler could put on the other rank's core while that rank still computed (Note [Distributed], session 26).
        int launchable = !inBackground ? _buckets.Length : OverlapsCommunication ? _buckets.Length - 1 : 0;
        while (_nextToLaunch < launchable && _buckets[_nextToLaunch].Ready >= _buckets[_nextToLaunch].Parameters.Count)
            _buckets[_nextToLaunch++].Launch(Communicator, inBackground);
    }

    private static int DefaultBucketCap(long gradientBytes) =>
        (int)Math.Clamp(gradientBytes / DefaultBucketsPerModel, MinimumDefaultBucketCapBytes, DefaultBucketCapBytes);

    private static IEnumerable<IGradientBucket> Bucketize(List<Parameter> parameters, int capBytes)
    {
        var current = new List<Parameter>();
        long bytes = 0;
        foreach (var p in parameters)
        {
            if (current.Count > 0 && (bytes >= capBytes || current[0].DType != p.DType))
            {
                yield return NewBucket(current);
                (current, bytes) = ([], 0);
            }
            current.Add(p);
            bytes += (long)p.Numel * p.DType.SizeInBytes();
        }
        if (current.Count > 0) yield return NewBucket(current);
    }

    private static IGradientBucket NewBucket(List<Parameter> parameters) => parameters[0].DType switch
    {
        DType.Float32 => new GradientBucket<float>(parameters),
        DType.Float64 => new GradientBucket<double>(parameters),
        var d => throw new NotSupportedException($"DistributedDataParallel: gradients of dtype {d.Name()} are not supported"),
    };

    /// <summary>Removes the gradient hooks; the model trains locally again.</summary>
    public void Dispose()
    {
        foreach (var h in _hooks) h.Dispose();
        _hooks.Clear();
    }
}
