namespace Loom.Distributed;

/// <summary>
/// The MPI environment of this process: <see cref="Initialize"/> once (under <c>mpirun</c>), use <see cref="World"/>,
/// <see cref="Shutdown"/> at the end.
/// </summary>
public static class Mpi
{
    private static Communicator? _world;

    /// <summary>The MCA variable that chooses OpenMPI's MPI_Iallreduce algorithm; Loom sets it (unless already set) before MPI_Init.</summary>
    public const string IallreduceAlgorithmVariable = "OMPI_MCA_coll_libnbc_iallreduce_algorithm";

    /// <summary>Whether this process was started by OpenMPI's mpirun (which sets OMPI_COMM_WORLD_SIZE).</summary>
    public static bool LaunchedByMpirun => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null;

    /// <summary>The communicator of every rank of the job; <see cref="Initialize"/> first.</summary>
    public static Communicator World => _world ?? throw new InvalidOperationException("MPI is not initialised; call Mpi.Initialize() first");

    public static bool IsInitialized => _world is not null;

    /// <summary>Initialises MPI (idempotent) and returns the world communicator.</summary>
    public static unsafe Communicator Initialize()
    {
        if (_world is not null) return _world;
        MpiNative.Check(MpiNative.Initialized(out int already), "MPI_Initialized");
        if (already == 0)
        {
            // libnbc, OpenMPI's non-blocking collectives, picks a binomial tree (reduce to rank 0, then broadcast) for
            // MPI_Iallreduce on fewer than 4 ranks or in place, which is every DDP bucket here: rank 0 reduces the
            // whole buffer alone, and a bucket took twice as long as the blocking MPI_Allreduce of the same bytes.
            // Reduce-scatter + all-gather (Rabenseifner) splits the reduction among the ranks and needs log2(p)
            // rounds of progress instead of a ring's 2(p−1). A user's own setting wins (overwrite 0).
            MpiNative.SetEnv(IallreduceAlgorithmVariable, "3", 0); // 3: rabenseifner
            // SERIALIZED, not SINGLE: the .NET runtime may move work between threads (test hosts, finalisers), and
            // Loom's own calls never overlap.
            MpiNative.Check(MpiNative.InitThread(null, null, MpiNative.ThreadSerialized, out _), "MPI_Init_thread");
        }
        _world = new Communicator(MpiNative.Global("ompi_mpi_comm_world"));
        return _world;
    }

    /// <summary>
    /// Runs one rank's work so that a failure ends the whole job at once: an exception is printed as one line naming
    /// this rank and the cause, then <c>MPI_Abort</c> makes mpirun kill every other rank (which would otherwise wait
    /// in their next collective until <see cref="Communicator.Timeout"/>). Returns the body's exit code.
    /// </summary>
    public static int RunOrAbort(Func<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return body();
        }
        catch (Exception e) when (_world is not null)
        {
            Fail(_world, e);
            return 1;
        }
    }

    /// <summary>Prints the one-line failure naming this rank and <paramref name="cause"/>, then ends the job.</summary>
    internal static void Fail(Communicator communicator, Exception cause)
    {
        Console.Error.WriteLine($"loom: rank {communicator.Rank} of {communicator.Size} failed: {cause.GetType().Name}: {cause.Message}");
        communicator.Abort(1);
    }

    /// <summary>Shuts MPI down; no MPI call may follow. Every rank must call it.</summary>
    public static void Shutdown()
    {
        if (_world is null) return;
        MpiNative.Check(MpiNative.Finalized(out int done), "MPI_Finalized");
        if (done == 0) MpiNative.Check(MpiNative.FinalizeNative(), "MPI_Finalize");
    }
}
