using System.Runtime.ExceptionServices;

namespace Loom.Distributed;

/// <summary>
/// One thread per communicator that runs queued collectives one after another, in the order they were queued (as
/// PyTorch's MPI process group does): a blocking collective there runs while the queuing thread computes. OpenMPI has
/// no progress thread on shared memory, so a non-blocking collective would advance only while someone polls it, and
/// libnbc's non-blocking algorithms were slower than the library's tuned blocking ones (see Note [Distributed]).
/// </summary>
internal sealed class CommunicationThread
{
    private readonly Queue<Work> _queue = new(); // queued and running; the running one leaves when it is done
    private Thread? _thread;

    /// <summary>Queues <paramref name="collective"/>; the returned work says when it has run.</summary>
    public Work Enqueue(Action collective)
    {
        var work = new Work(collective);
        lock (_queue)
        {
            _queue.Enqueue(work);
            _thread ??= StartThread();
            Monitor.PulseAll(_queue);
        }
        return work;
    }

    /// <summary>Returns once everything queued has run: a collective issued after this follows them on every rank.</summary>
    public void Drain()
    {
        if (_thread is null) return;
        lock (_queue)
            while (_queue.Count > 0) Monitor.Wait(_queue);
    }

    private Thread StartThread()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "loom-mpi-communication" };
        thread.Start();
        return thread;
    }

    private void Run()
    {
        while (true)
        {
            Work work;
            lock (_queue)
            {
                while (_queue.Count == 0) Monitor.Wait(_queue);
                work = _queue.Peek();
            }
            work.Run();
            lock (_queue)
            {
                _queue.Dequeue();
                Monitor.PulseAll(_queue);
            }
        }
    }

    /// <summary>A queued collective.</summary>
    public sealed class Work(Action collective)
    {
        private readonly ManualResetEventSlim _done = new(false, spinCount: 0);
        private Exception? _error;

        public bool IsCompleted => _done.IsSet;

        internal void Run()
        {
            try
            {
                collective();
            }
            catch (Exception e)
            {
                _error = e;
            }
            _done.Set();
        }

        /// <summary>
        /// Blocks (without spinning: the communication thread needs the core) until the collective has run, and rethrows
        /// its failure. A hung peer is the watchdog's business, which ends the job.
        /// </summary>
        public void Wait()
        {
            _done.Wait();
            if (_error is not null) ExceptionDispatchInfo.Throw(_error);
        }
    }
}
