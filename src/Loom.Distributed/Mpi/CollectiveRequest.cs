using System.Buffers;

namespace Loom.Distributed;

/// <summary>
/// A non-blocking collective in flight (<c>MPI_Request</c>). Its buffer stays pinned until the collective completes:
/// call <see cref="Wait"/> (or <see cref="Test"/> until it returns true) before reading or reusing the buffer.
/// </summary>
/// <remarks>
/// OpenMPI has no progress thread on shared memory: a collective advances only inside MPI calls. Calling
/// <see cref="Test"/> now and then while computing (as <see cref="DistributedDataParallel"/> does between gradient
/// buckets) is what lets communication overlap computation.
/// </remarks>
public sealed class CollectiveRequest
{
    private readonly Communicator _communicator;
    private readonly string _operation;
    private nint _request;
    private MemoryHandle _pin;
    private bool _done;

    internal CollectiveRequest(Communicator communicator, string operation, nint request, MemoryHandle pin)
    {
        (_communicator, _operation, _request, _pin) = (communicator, operation, request, pin);
    }

    public bool IsCompleted => _done;

    /// <summary>Advances the collective; true once it has completed (the buffer holds the result and is unpinned).</summary>
    public bool Test()
    {
        if (_done) return true;
        int flag;
        lock (_communicator.Gate) MpiNative.Check(MpiNative.Test(ref _request, out flag, 0), _operation);
        if (flag == 0) return false;
        _done = true;
        _pin.Dispose();
        return true;
    }

    /// <summary>
    /// Blocks until the collective completes, or throws <see cref="CollectiveTimeoutException"/> after the
    /// communicator's <see cref="Communicator.Timeout"/>.
    /// </summary>
    /// <remarks>
    /// It tests for <see cref="SpinMicroseconds"/> (a collective between ranks that are all there completes in
    /// microseconds on shared memory), then sleeps between tests, each sleep a twentieth of the time waited so far
    /// (50 µs to 1 ms): a long wait costs about 1 % of a core, and the sleep adds at most 5 % to the wait. A rank
    /// waiting for a slower one must leave its core idle rather than spin or <c>sched_yield</c> on it: a yielding thread
    /// still counts as running, so the scheduler puts the slower rank's other threads (its data loader, the JIT, the
    /// garbage collector) on the slower rank's own core instead of the idle one, and the waiting rank waits longer still.
    /// </remarks>
    public void Wait()
    {
        if (_done) return;
        long start = Stopwatch.GetTimestamp();
        long spinUntil = start + SpinMicroseconds * Stopwatch.Frequency / 1_000_000;
        var timeout = _communicator.Timeout;
        while (!Test())
        {
            if (Stopwatch.GetTimestamp() < spinUntil) continue;
            var waited = Stopwatch.GetElapsedTime(start);
            if (waited > timeout)
                throw new CollectiveTimeoutException(CollectiveTimeoutException.Describe(_communicator, _operation));
            MpiNative.USleep((uint)Math.Clamp(waited.TotalMicroseconds / 20, 50, 1000));
        }
    }

    /// <summary>How long <see cref="Wait"/> tests without pause before it sleeps.</summary>
    internal const long SpinMicroseconds = 50;
}
