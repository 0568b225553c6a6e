using System.Buffers;

namespace Loom.Distributed;

/// <summary>
/// A group of MPI ranks and the collectives Loom needs over it: broadcast, all-reduce (blocking and non-blocking),
/// barrier, abort. Obtain the world communicator from <see cref="Mpi.World"/>.
/// </summary>
/// <remarks>
/// <para>Every collective obeys <see cref="Timeout"/> (mpirun does not notice a hung rank). <see cref="AllReduce{T}"/>
/// is the library's blocking <c>MPI_Allreduce</c>, whose tuned algorithms beat the non-blocking ones (libnbc) at every
/// size measured, watched by a <see cref="CollectiveWatchdog"/> that ends the job when it overruns; broadcast and
/// barrier are the non-blocking calls with a polled wait, which throws <see cref="CollectiveTimeoutException"/>.</para>
/// <para>MPI runs MPI_THREAD_SERIALIZED: calls from any thread, never two at once. Every call here holds the
/// communicator's gate, and a collective issued on the caller's thread first waits for the ones queued on the
/// communication thread, so the ranks issue collectives in the same order whichever thread runs them.</para>
/// </remarks>
public sealed unsafe partial class Communicator
{
    private readonly nint _comm;
    private readonly object _gate = new();
    private readonly CollectiveWatchdog _watchdog;
    private readonly CommunicationThread _communication = new();

    internal Communicator(nint comm)
    {
        _comm = comm;
        _watchdog = new CollectiveWatchdog(this);
        MpiNative.Check(MpiNative.CommRank(comm, out int rank), "MPI_Comm_rank");
        MpiNative.Check(MpiNative.CommSize(comm, out int size), "MPI_Comm_size");
        (Rank, Size) = (rank, size);
    }

    /// <summary>This process's index in the group, 0..Size-1.</summary>
    public int Rank { get; }

    /// <summary>Processes in the group.</summary>
    public int Size { get; }

    /// <summary>How long a collective may wait for the other ranks before <see cref="CollectiveTimeoutException"/>.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Held around every MPI call on this communicator (MPI_THREAD_SERIALIZED).</summary>
    internal object Gate => _gate;

    /// <summary>Copies <paramref name="root"/>'s buffer into every rank's.</summary>
    public void Broadcast<T>(Span<T> buffer, int root = 0) where T : unmanaged
    {
        CheckRoot(root);
        _communication.Drain();
        lock (_gate)
        fixed (T* p = buffer)
        {
            MpiNative.Check(MpiNative.Ibcast((nint)p, buffer.Length, Datatype<T>(), root, _comm, out nint request), "MPI_Ibcast");
            new CollectiveRequest(this, "MPI_Ibcast", request, default).Wait();
        }
    }

    /// <summary>Rank <paramref name="root"/>'s string on every rank (a run folder's path, say); the others' argument is ignored.</summary>
    public string BroadcastString(string? value, int root = 0)
    {
        var bytes = Rank == root ? System.Text.Encoding.UTF8.GetBytes(value ?? throw new ArgumentNullException(nameof(value))) : [];
        int[] length = [bytes.Length];
        Broadcast<int>(length, root);
        if (Rank != root) bytes = new byte[length[0]];
        Broadcast<byte>(bytes, root);
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    /// <summary>
    /// Replaces <paramref name="buffer"/> on every rank with the element-wise reduction of all ranks' buffers. A call
    /// that overruns <see cref="Timeout"/> ends the job with a one-line message (the blocking call cannot be abandoned).
    /// </summary>
    public void AllReduce<T>(Span<T> buffer, ReduceOp op = ReduceOp.Sum) where T : unmanaged
    {
        _communication.Drain();
        AllReduceNow(buffer, op);
    }

    /// <summary>
    /// Queues an in-place sum of <paramref name="buffer"/> on the communication thread; the caller computes meanwhile
    /// and must not touch the buffer until the work completes.
    /// </summary>
    internal CommunicationThread.Work AllReduceInBackground<T>(T[] buffer) where T : unmanaged =>
        _communication.Enqueue(() => AllReduceNow<T>(buffer, ReduceOp.Sum));

    private void AllReduceNow<T>(Span<T> buffer, ReduceOp op) where T : unmanaged
    {
        lock (_gate)
        using (_watchdog.Watch("MPI_Allreduce"))
        fixed (T* p = buffer)
            MpiNative.Check(MpiNative.Allreduce(MpiNative.InPlace, (nint)p, buffer.Length, Datatype<T>(), Op(op), _comm), "MPI_Allreduce");
    }

    /// <summary>
    /// Starts an in-place all-reduce of <paramref name="buffer"/> (<c>MPI_Iallreduce</c>) and returns at once; the
    /// buffer is pinned and must not be touched until the request completes. It advances only inside MPI calls
    /// (<see cref="CollectiveRequest.Test"/>), and waiting on it needs no core, which suits an idle rank polling with
    /// sleeps; to overlap communication with computation, DistributedDataParallel queues blocking collectives on a
    /// communication thread instead.
    /// </summary>
    public CollectiveRequest AllReduceAsync<T>(Memory<T> buffer, ReduceOp op = ReduceOp.Sum) where T : unmanaged
    {
        _communication.Drain();
        var pin = buffer.Pin();
        int code;
        nint request;
        lock (_gate) code = MpiNative.Iallreduce(MpiNative.InPlace, (nint)pin.Pointer, buffer.Length, Datatype<T>(), Op(op), _comm, out request);
        if (code != MpiNative.Success)
        {
            pin.Dispose();
            MpiNative.Check(code, "MPI_Iallreduce");
        }
        return new CollectiveRequest(this, "MPI_Iallreduce", request, pin);
    }

    /// <summary>
    /// The MPI library's own blocking <c>MPI_Allreduce</c>, without a timeout: the reference the benchmark holds
    /// <see cref="AllReduce{T}"/> against. Prefer <see cref="AllReduce{T}"/>.
    /// </summary>
    public void AllReduceBlockingNative<T>(Span<T> buffer, ReduceOp op = ReduceOp.Sum) where T : unmanaged
    {
        _communication.Drain();
        lock (_gate)
        fixed (T* p = buffer)
            MpiNative.Check(MpiNative.Allreduce(MpiNative.InPlace, (nint)p, buffer.Length, Datatype<T>(), Op(op), _comm), "MPI_Allreduce");
    }

    /// <summary>Returns once every rank has called it.</summary>
    public void Barrier()
    {
        _communication.Drain();
        lock (_gate)
        {
            MpiNative.Check(MpiNative.Ibarrier(_comm, out nint request), "MPI_Ibarrier");
            new CollectiveRequest(this, "MPI_Ibarrier", request, default).Wait();
        }
    }

    /// <summary>Ends every rank of the job (mpirun kills the others) with <paramref name="errorCode"/>; does not return.</summary>
    public void Abort(int errorCode = 1)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        MpiNative.Abort(_comm, errorCode);
        Environment.Exit(errorCode); // not reached: MPI_Abort does not return
    }

    private void CheckRoot(int root)
    {
        if (root < 0 || root >= Size) throw new ArgumentOutOfRangeException(nameof(root), root, $"root must be a rank in 0..{Size - 1}");
    }

    private static nint Datatype<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? Handles.Float
        : typeof(T) == typeof(double) ? Handles.Double
        : typeof(T) == typeof(int) ? Handles.Int
        : typeof(T) == typeof(long) ? Handles.Long
        : typeof(T) == typeof(byte) ? Handles.Byte
        : throw new NotSupportedException($"MPI: no datatype for {typeof(T).Name} (float, double, int, long and byte are supported)");

    private static nint Op(ReduceOp op) => op switch
    {
        ReduceOp.Sum => Handles.Sum,
        ReduceOp.Max => Handles.Max,
        ReduceOp.Min => Handles.Min,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown reduction"),
    };

    // Predefined handles, read once the library is loaded (see MpiNative).
    private static class Handles
    {
        public static readonly nint Float = MpiNative.Global("ompi_mpi_float");
        public static readonly nint Double = MpiNative.Global("ompi_mpi_double");
        public static readonly nint Int = MpiNative.Global("ompi_mpi_int");
        public static readonly nint Long = MpiNative.Global("ompi_mpi_long"); // 64-bit on Linux x86-64 and arm64
        public static readonly nint Byte = MpiNative.Global("ompi_mpi_byte");
        public static readonly nint Sum = MpiNative.Global("ompi_mpi_op_sum");
        public static readonly nint Max = MpiNative.Global("ompi_mpi_op_max");
        public static readonly nint Min = MpiNative.Global("ompi_mpi_op_min");
    }
}
