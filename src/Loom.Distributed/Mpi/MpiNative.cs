namespace Loom.Distributed;

/// <summary>
/// The few OpenMPI entry points Loom calls, bound by soname (<c>libmpi.so.40</c>, OpenMPI 4 on Debian 12).
/// </summary>
/// <remarks>
/// OpenMPI's handles (<c>MPI_Comm</c>, <c>MPI_Datatype</c>, <c>MPI_Op</c>, <c>MPI_Request</c>) are pointers, and the
/// predefined ones (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>, <c>MPI_SUM</c>) are macros for the addresses of exported
/// globals such as <c>ompi_mpi_comm_world</c>: they are read with <see cref="NativeLibrary.GetExport"/>. This binding is
/// OpenMPI's ABI, not MPICH's (whose handles are ints). MPI.NET is not used: it targets MS-MPI on Windows.
/// </remarks>
internal static unsafe partial class MpiNative
{
    public const string Library = "libmpi.so.40";

    public const int Success = 0;
    public const int ThreadSerialized = 2; // OpenMPI's MPI_THREAD_SERIALIZED
    public static readonly nint InPlace = 1; // OpenMPI's MPI_IN_PLACE is ((void*)1)

    private static nint _handle;

    /// <summary>Loads the library (once) or throws a one-line error saying what to install.</summary>
    public static nint Handle
    {
        get
        {
            if (_handle != 0) return _handle;
            if (!NativeLibrary.TryLoad(Library, typeof(MpiNative).Assembly, DllImportSearchPath.SafeDirectories, out var handle))
                throw new DllNotFoundException($"OpenMPI's {Library} was not found; install it (Debian: apt-get install openmpi-bin libopenmpi-dev)");
            return _handle = handle;
        }
    }

    /// <summary>The address of an exported predefined handle (<c>ompi_mpi_comm_world</c>…).</summary>
    public static nint Global(string name) => NativeLibrary.GetExport(Handle, name);

    // .NET's Environment.SetEnvironmentVariable changes only the runtime's own copy on Unix; MPI_Init reads the C
    // environment, so MCA defaults must go through libc.
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport(Library, EntryPoint = "MPI_Init_thread")]
    public static partial int InitThread(int* argc, nint* argv, int required, out int provided);

    [LibraryImport(Library, EntryPoint = "MPI_Initialized")]
    public static partial int Initialized(out int flag);

    [LibraryImport(Library, EntryPoint = "MPI_Finalized")]
    public static partial int Finalized(out int flag);

    [LibraryImport(Library, EntryPoint = "MPI_Finalize")]
    public static partial int FinalizeNative();

    [LibraryImport(Library, EntryPoint = "MPI_Comm_rank")]
    public static partial int CommRank(nint comm, out int rank);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_size")]
    public static partial int CommSize(nint comm, out int size);

    [LibraryImport(Library, EntryPoint = "MPI_Allreduce")]
    public static partial int Allreduce(nint sendBuffer, nint receiveBuffer, int count, nint datatype, nint op, nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Iallreduce")]
    public static partial int Iallreduce(nint sendBuffer, nint receiveBuffer, int count, nint datatype, nint op, nint comm, out nint request);

    [LibraryImport(Library, EntryPoint = "MPI_Ibcast")]
    public static partial int Ibcast(nint buffer, int count, nint datatype, int root, nint comm, out nint request);

    [LibraryImport(Library, EntryPoint = "MPI_Ibarrier")]
    public static partial int Ibarrier(nint comm, out nint request);

    [LibraryImport(Library, EntryPoint = "MPI_Test")]
    public static partial int Test(ref nint request, out int flag, nint status);

    [LibraryImport(Library, EntryPoint = "MPI_Abort")]
    public static partial int Abort(nint comm, int errorCode);

    static MpiNative()
    {
        // LibraryImport resolves "libmpi.so.40" through the same loaded handle, so a missing library fails once,
        // with the message above, rather than as a bare DllNotFoundException from the first call.
        NativeLibrary.SetDllImportResolver(typeof(MpiNative).Assembly, (name, _, _) => name == Library ? Handle : 0);
    }

    /// <summary>Throws <see cref="MpiException"/> for a non-success return code.</summary>
    public static void Check(int code, string call)
    {
        if (code != Success) throw new MpiException($"{call} failed with MPI error code {code}");
    }
}
