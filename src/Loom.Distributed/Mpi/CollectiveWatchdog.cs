namespace Loom.Distributed;

/// <summary>
/// Ends the job when a blocking MPI collective has run longer than <see cref="Communicator.Timeout"/>: the library's
/// blocking calls cannot be interrupted or given a deadline, and mpirun never notices a hung rank, so a watcher thread
/// prints the same one-line failure <see cref="Mpi.RunOrAbort"/> prints and calls <c>MPI_Abort</c>.
/// </summary>
/// <remarks>
/// Collectives on a communicator never overlap (they are serialised), so one slot holds the call in progress. Arming
/// costs two volatile writes, nothing next to a collective; the watcher sleeps between looks.
/// </remarks>
internal sealed class CollectiveWatchdog(Communicator communicator)
{
    private string? _call;
    private long _since;
    private Thread? _watcher;

    /// <summary>Watches <paramref name="call"/> until the returned scope is disposed.</summary>
    public Scope Watch(string call)
    {
        // _since first: the watcher reads _call, then _since, so it can only see a start at least as recent as the
        // call's, never declare a fresh call overdue.
        Volatile.Write(ref _since, Stopwatch.GetTimestamp());
        Volatile.Write(ref _call, call);
        if (_watcher is null) Start();
        return new Scope(this);
    }

    public readonly struct Scope(CollectiveWatchdog watchdog) : IDisposable
    {
        public void Dispose() => Volatile.Write(ref watchdog._call, null);
    }

    private void Start()
    {
        lock (this)
        {
            if (_watcher is not null) return;
            _watcher = new Thread(Watch) { IsBackground = true, Name = "loom-mpi-watchdog" };
            _watcher.Start();
        }
    }

    private void Watch()
    {
        while (true)
        {
            var timeout = communicator.Timeout;
            Thread.Sleep(TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 20, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond)));
            if (Volatile.Read(ref _call) is not { } call || Stopwatch.GetElapsedTime(Volatile.Read(ref _since)) <= timeout) continue;
            Mpi.Fail(communicator, new CollectiveTimeoutException(CollectiveTimeoutException.Describe(communicator, call)));
        }
    }
}
