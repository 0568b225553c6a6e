using System.Reflection;
using Loom.Bench.Peers;
using Loom.Distributed;

namespace Loom.Bench.Distributed;

/// <summary>
/// Starts the MPI jobs of the distributed benchmarks, each a long-lived peer (<see cref="PeerProcess"/>) whose rank 0
/// answers the benchmark: Loom's own ranks (<see cref="RankServer"/>) and MPI's through mpi4py
/// (bench/peers/mpi4py_peer.py). Jobs run with the tests' one-machine settings (<see cref="MpiLauncher"/>: shared
/// memory only) inside an empty network namespace; where the machine cannot make one, nothing starts, because
/// mpirun's control channel would listen on the machine's network.
/// </summary>
internal sealed class MpiJobs : IDisposable
{
    private readonly List<PeerProcess> _started = [];

    /// <summary>Why no job can start here, or null when jobs can start.</summary>
    public static string? Unavailable =>
        !MpiLauncher.IsAvailable ? "mpirun not found (apt-get install openmpi-bin)"
        : !MpiLauncher.CanIsolateNetwork ? "cannot make an empty network namespace here (unshare --net needs root or user namespaces); refusing to start mpirun, whose control channel would listen on this machine's network"
        : null;

    /// <summary>When no job can start here: says why on the log and as the benchmark's one row, and returns true.</summary>
    public static bool Refused(BenchReport report, string benchmark)
    {
        if (Unavailable is not { } why) return false;
        report.Log.WriteLine($"{benchmark}: not run: {why}");
        report.Add(benchmark, "skipped", ("error", why));
        return true;
    }

    /// <summary>A job of <paramref name="ranks"/> Loom ranks serving <see cref="DataParallelCases"/>.</summary>
    /// <param name="yieldWhenIdle">Set mpi_yield_when_idle (see <see cref="Start"/>); false runs the ranks with
    /// `loom launch`'s settings only, unless the environment sets it.</param>
    public PeerProcess Loom(int ranks, int? threads, bool yieldWhenIdle = true, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        // The ranks run this assembly with the runtime settings and dependency list of a program beside it: its own
        // when built as Loom.Bench, else the program's that started the benchmark (the loom tool, a test host), whose
        // dependencies include this assembly's. Without a dependency list the host loads what is in the folder.
        var self = typeof(MpiJobs).Assembly.Location;
        var folder = Path.GetDirectoryName(self)!;
        var entry = Assembly.GetEntryAssembly()?.Location;
        string[] candidates = [self, .. entry is { Length: > 0 } ? new[] { entry } : [], .. Directory.EnumerateFiles(folder, "*.runtimeconfig.json")];
        var runtimeConfig = candidates.Select(c => c.EndsWith(".runtimeconfig.json", StringComparison.Ordinal) ? c : Path.ChangeExtension(c, ".runtimeconfig.json"))
            .FirstOrDefault(File.Exists) ?? throw new PeerException($"no *.runtimeconfig.json beside {self} to run the ranks with");
        var dependencies = new[] { runtimeConfig.Replace(".runtimeconfig.json", ".deps.json", StringComparison.Ordinal), entry is null ? "" : Path.ChangeExtension(entry, ".deps.json") }
            .FirstOrDefault(File.Exists);
        string dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        List<string> arguments = ["exec", "--runtimeconfig", runtimeConfig];
        if (dependencies is not null) arguments.AddRange(["--depsfile", dependencies]);
        arguments.AddRange([self, RankServer.Command]);
        return Start(ranks, dotnet, arguments, AppContext.BaseDirectory, yieldWhenIdle, extraEnvironment, threads);
    }

    /// <summary>A job of <paramref name="ranks"/> ranks of bench/peers/mpi4py_peer.py: MPI_Allreduce with no Loom code.</summary>
    public PeerProcess MpiPeer(int ranks)
    {
        var folder = PeerFolder.Find() ?? throw new PeerException(
            $"no peers folder: none set in {PeerFolder.EnvironmentVariable}, no bench/peers above the working directory, none beside the program");
        var script = Path.Combine(folder, "mpi4py_peer.py");
        if (!File.Exists(script)) throw new PeerException($"{script} not found");
        return Start(ranks, PeerSet.Python, ["-u", "-B", script, "--serve"], folder);
    }

    private PeerProcess Start(int ranks, string program, IReadOnlyList<string> arguments, string workingDirectory, bool yieldWhenIdle = true,
        IReadOnlyDictionary<string, string>? extraEnvironment = null, int? threads = null)
    {
        if (Unavailable is { } why) throw new PeerException(why);
        // Loom's ranks are placed as `loom launch` places them (bound to cores of their own when their threads fit).
        bool unbound = extraEnvironment?.GetValueOrDefault("LOOM_BIND") == "none";
        var info = MpiLauncher.StartInfo(ranks, program, arguments, isolateNetwork: true, threadsPerRank: unbound ? null : threads);
        var environment = info.Environment.Where(kv => MpiLauncher.Environment.ContainsKey(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        // A blocking MPI call yields its core while it waits, as Loom's polled wait does (CollectiveRequest.Wait):
        // otherwise, on a machine with other work, MPI_Allreduce spins through its time slice while the rank it waits
        // for waits for a core, and the peer's figure measures the scheduler. On a quiet machine it changes nothing.
        if (yieldWhenIdle) environment["OMPI_MCA_mpi_yield_when_idle"] = "1";
        foreach (var (k, v) in extraEnvironment ?? new Dictionary<string, string>()) environment[k] = v;
        var job = PeerProcess.Start(info.FileName, [.. info.ArgumentList], workingDirectory, environment);
        _started.Add(job);
        return job;
    }

    public void Dispose()
    {
        foreach (var job in _started) job.Dispose();
        _started.Clear();
    }
}
