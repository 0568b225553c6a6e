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
    public void Wait()
    {
        if (_done) return;
        var clock = Stopwatch.StartNew();
        var timeout = _communicator.Timeout;
        // Spin first (a collective between two processes on shared memory completes in microseconds), then yield the
        // core: with more ranks than cores a spinning rank would starve the one it is waiting for.
        for (int spins = 0; !Test(); spins++)
        {
            if (spins < 2000) continue;
            if (clock.Elapsed > timeout)
                throw new CollectiveTimeoutException(CollectiveTimeoutException.Describe(_communicator, _operation));
            Thread.Yield();
        }
    }
}
