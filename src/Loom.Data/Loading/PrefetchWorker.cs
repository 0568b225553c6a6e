using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Loom.Data;

/// <summary>
/// One background thread that calls <c>produce</c> until it returns null, keeping up to <c>capacity</c> results in a
/// bounded queue for <see cref="Take"/>. The producer blocks when the queue is full, so memory stays bounded.
/// </summary>
/// <remarks>
/// An exception in <c>produce</c> ends the worker; <see cref="Take"/> rethrows it (original type and stack) once the
/// results made before it have been taken. <see cref="Dispose"/> cancels a blocked producer and joins the thread, so
/// no thread outlives the enumeration; a producer busy inside <c>produce</c> finishes that one call first.
/// </remarks>
internal sealed class PrefetchWorker<TItem> : IDisposable where TItem : class
{
    private readonly BlockingCollection<TItem> _queue;
    private readonly CancellationTokenSource _cancel;
    private readonly CancellationToken _external;
    private readonly Thread _thread;
    private ExceptionDispatchInfo? _error;
    private bool _disposed;

    /// <param name="cancellationToken">Cancels both the worker and a consumer waiting in <see cref="Take"/>.</param>
    public PrefetchWorker(int capacity, Func<TItem?> produce, Action started, Action stopped, string name, CancellationToken cancellationToken = default)
    {
        _external = cancellationToken;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _queue = new BlockingCollection<TItem>(new ConcurrentQueue<TItem>(), capacity);
        var queue = _queue;
        var token = _cancel.Token;
        started();
        // A dedicated background thread rather than a pool task: it blocks for long stretches, and being a background
        // thread it can never keep the process alive.
        _thread = new Thread(() => Run(queue, produce, token, stopped)) { IsBackground = true, Name = name };
        _thread.Start();
    }

    private void Run(BlockingCollection<TItem> queue, Func<TItem?> produce, CancellationToken token, Action stopped)
    {
        try
        {
            while (!token.IsCancellationRequested)
            {
                var item = produce();
                if (item is null) break;
                queue.Add(item, token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _error = ExceptionDispatchInfo.Capture(ex);
        }
        finally
        {
            queue.CompleteAdding();
            stopped();
        }
    }

    /// <summary>The next item, or null once the producer has finished. Rethrows the producer's exception; throws <see cref="OperationCanceledException"/> once cancelled.</summary>
    public TItem? Take()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_queue.TryTake(out var item, Timeout.Infinite, _external)) return item;
        _external.ThrowIfCancellationRequested(); // the worker may have stopped for the cancellation before the consumer saw it
        // Completed and drained: CompleteAdding happens after _error is set, so the error is visible here.
        _error?.Throw();
        return null;
    }

    /// <summary>Asks the worker to stop without waiting (safe from a finalizer).</summary>
    public void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Cancel();
        _thread.Join();
        _queue.Dispose();
        _cancel.Dispose();
    }
}
