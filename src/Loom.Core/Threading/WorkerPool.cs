using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Loom.Threading;

/// <summary>
/// Dedicated worker threads behind <see cref="ParallelHelper"/>: one job at a time, split into equal ranges that the
/// caller and the workers claim from a shared counter.
/// </summary>
/// <remarks>
/// Why not Parallel.For: it allocates per call and wakes thread-pool threads through the pool's queues, a few
/// microseconds each time, and GEMM dispatches twice per cache block. Here a worker that has just finished polls for
/// the next job for a short while (<see cref="SpinMicroseconds"/>), so back-to-back dispatches are cheap, then
/// sleeps on a semaphore so that an idle process burns no CPU.
/// <para>
/// Protocol: the caller (owning <see cref="_busy"/>) writes the job, opens it and bumps the generation. A worker that
/// sees a new generation registers in <see cref="_active"/> and only then checks that a job is open before reading
/// it. The caller closes the job once every range is done and waits for <see cref="_active"/> to drain before the job
/// data may change, so no worker can run one job's body on another job's ranges.
/// </para>
/// </remarks>
internal static class WorkerPool
{
    /// <summary>How long an idle worker keeps polling before it sleeps.</summary>
    private const double SpinMicroseconds = 50;

    private static int _busy;       // 1 while a caller owns the pool (not a Monitor: that would let a nested call re-enter)
    private static readonly SemaphoreSlim Wake = new(0);
    private static readonly List<Thread> Workers = [];

    private static int _generation; // bumped per job
    private static int _open;       // 1 while the current job may be joined
    private static int _active;     // workers between "saw a job" and "left it"
    private static int _sleeping;   // workers announced as (about to be) blocked on Wake

    // The current job; written only by the caller owning _busy while no worker is active.
    private static Action? _claimRanges;
    private static int _ranges, _count, _chunk;
    private static int _nextRange;
    private static int _pending;
    private static Exception? _error;

    [ThreadStatic] private static bool _isWorker;

    /// <summary>Number of worker threads started so far (created on demand, one fewer than the threads used).</summary>
    public static int WorkerCount
    {
        get { lock (Workers) return Workers.Count; }
    }

    /// <summary>
    /// Runs body over [0, count) split into `threads` equal ranges and returns true; returns false without running
    /// anything when called from a worker or while another job holds the pool, so the caller runs the loop itself.
    /// </summary>
    public static bool TryRun<TState>(int threads, int count, TState state, Action<TState, int, int> body)
    {
        if (_isWorker || Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            EnsureWorkers(threads - 1);
            Job<TState>.State = state;
            Job<TState>.Body = body;
            _claimRanges = Job<TState>.ClaimRanges;
            _ranges = threads;
            _count = count;
            _chunk = (count + threads - 1) / threads;
            _error = null;
            _nextRange = 0;
            _pending = threads;
            Interlocked.Exchange(ref _open, 1);
            Interlocked.Increment(ref _generation);
            int sleeping = Interlocked.Exchange(ref _sleeping, 0);
            if (sleeping > 0) Wake.Release(sleeping);

            Job<TState>.ClaimRanges();
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) > 0) spin.SpinOnce(sleep1Threshold: -1);
            Interlocked.Exchange(ref _open, 0);
            spin = new SpinWait();
            while (Volatile.Read(ref _active) > 0) spin.SpinOnce(sleep1Threshold: -1);

            Job<TState>.State = default!; // do not keep the caller's data alive
            Job<TState>.Body = null;
            _claimRanges = null;
            if (_error is { } error) ExceptionDispatchInfo.Capture(error).Throw();
            return true;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>The job's typed data; a static generic slot per state type, so publishing a job allocates nothing.</summary>
    private static class Job<TState>
    {
        public static TState State = default!;
        public static Action<TState, int, int>? Body;

        /// <summary>Claims ranges until none are left, recording the first exception.</summary>
        public static readonly Action ClaimRanges = static () =>
        {
            var body = Body!;
            var state = State;
            int range;
            while ((range = Interlocked.Increment(ref _nextRange) - 1) < _ranges)
            {
                int start = range * _chunk, end = Math.Min(_count, start + _chunk);
                try
                {
                    if (start < end) body(state, start, end);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, e, null);
                }
                finally
                {
                    Interlocked.Decrement(ref _pending);
                }
            }
        };
    }

    private static void EnsureWorkers(int count)
    {
        lock (Workers)
        {
            while (Workers.Count < count)
            {
                var thread = new Thread(WorkerLoop) { IsBackground = true, Name = $"Loom worker {Workers.Count + 1}" };
                Workers.Add(thread);
                thread.Start();
            }
        }
    }

    private static void WorkerLoop()
    {
        _isWorker = true;
        int seen = Volatile.Read(ref _generation);
        long spinTicks = (long)(SpinMicroseconds * Stopwatch.Frequency / 1e6);
        while (true)
        {
            // Busy-poll with pause instructions only: SpinWait would yield the core, and on a busy machine a yielded
            // worker comes back milliseconds later, after the caller has run every range alone.
            long deadline = Stopwatch.GetTimestamp() + spinTicks;
            while (Volatile.Read(ref _generation) == seen && Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(10);
            if (Volatile.Read(ref _generation) == seen) Sleep(seen);
            seen = Volatile.Read(ref _generation);

            Interlocked.Increment(ref _active);
            if (Volatile.Read(ref _open) == 1) _claimRanges?.Invoke();
            Interlocked.Decrement(ref _active);
        }
    }

    /// <summary>
    /// Blocks until a caller releases <see cref="Wake"/>. The announcement in <see cref="_sleeping"/> comes first, so a
    /// caller that publishes a job afterwards sees it; if a job appeared in between, the announcement is taken back,
    /// unless a caller already counted it, whose release must then be consumed.
    /// </summary>
    private static void Sleep(int seen)
    {
        Interlocked.Increment(ref _sleeping);
        if (Volatile.Read(ref _generation) == seen)
        {
            Wake.Wait();
            return;
        }
        int current;
        do
        {
            current = Volatile.Read(ref _sleeping);
            if (current == 0)
            {
                Wake.Wait(); // counted and released by the caller: consume it
                return;
            }
        } while (Interlocked.CompareExchange(ref _sleeping, current - 1, current) != current);
    }
}
