namespace Loom.Distributed;

/// <summary>
/// Starts a program as N ranks on this machine with OpenMPI's <c>mpirun</c>, with the settings a single machine needs
/// (the brief for <c>loom launch</c> and for the tests).
/// </summary>
/// <remarks>
/// <para>Shared memory only (<c>pml=ob1</c>, <c>btl=self,vader</c>, no UCX): ranks on one machine have no reason to
/// touch a network. Running as root needs OpenMPI's two opt-in variables.</para>
/// <para>mpirun's control channel listens on every address even when told to use loopback; with
/// <c>isolateNetwork</c> the job runs inside an empty network namespace (<c>unshare --net</c>, loopback brought up),
/// so nothing of it can be reached from, or leave, the machine. That needs the right to create namespaces (root, or
/// user namespaces); <see cref="CanIsolateNetwork"/> says whether this machine grants it.</para>
/// <para>A rank that dies makes mpirun kill the others and exit non-zero (137 for SIGKILL) within about a second;
/// a hung rank is never noticed by mpirun, which is what <see cref="Communicator.Timeout"/> is for.</para>
/// </remarks>
public static class MpiLauncher
{
    /// <summary>Environment variables every rank gets.</summary>
    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>
    {
        ["OMPI_ALLOW_RUN_AS_ROOT"] = "1",
        ["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1",
        ["OMPI_MCA_pml"] = "ob1",
        ["OMPI_MCA_btl"] = "self,vader",
        ["OMPI_MCA_osc"] = "^ucx",
        ["TERM"] = "dumb", // rank output goes through mpirun's pipes: no terminal escape codes
    };

    private static bool? _canIsolate;

    /// <summary>Whether mpirun is on the PATH.</summary>
    public static bool IsAvailable => FindOnPath("mpirun") is not null;

    /// <summary>Whether <c>unshare --net</c> works here (tried once).</summary>
    public static bool CanIsolateNetwork => _canIsolate ??= TryUnshare();

    /// <summary>
    /// The command that runs <paramref name="program"/> with <paramref name="arguments"/> as <paramref name="ranks"/>
    /// ranks: mpirun with one-machine flags, inside an empty network namespace when <paramref name="isolateNetwork"/>.
    /// </summary>
    /// <param name="threadsPerRank">The intra-op threads each rank runs. When given, and the ranks' threads fit this
    /// machine's cores, each rank is bound to cores of its own (see <see cref="BindsRanks"/>); unknown (null), or more
    /// threads than cores, the ranks are left to the OS scheduler.</param>
    public static ProcessStartInfo StartInfo(int ranks, string program, IEnumerable<string> arguments, bool isolateNetwork, int? threadsPerRank = null)
    {
        if (ranks < 1) throw new ArgumentOutOfRangeException(nameof(ranks), ranks, "launch: the number of ranks must be at least 1");
        if (threadsPerRank < 1) throw new ArgumentOutOfRangeException(nameof(threadsPerRank), threadsPerRank, "launch: each rank needs at least 1 thread");
        var mpirun = new List<string> { "mpirun", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (threadsPerRank is int threads && BindsRanks(ranks, threads, System.Environment.ProcessorCount))
            // Each rank on threads cores of its own, all its threads with it (rank r on cores r·T … r·T+T−1).
            mpirun.AddRange(["--map-by", $"core:PE={threads.ToString(System.Globalization.CultureInfo.InvariantCulture)}", "--bind-to", "core"]);
        else
            // More ranks than cores is allowed (tests, a laptop); binding is left to the OS so oversubscribed
            // ranks are not pinned onto the same core.
            mpirun.AddRange(["--oversubscribe", "--bind-to", "none"]);
        mpirun.Add(program);
        mpirun.AddRange(arguments);
        ProcessStartInfo info;
        if (isolateNetwork)
        {
            info = new ProcessStartInfo("unshare") { ArgumentList = { "--net", "sh", "-c", "ip link set lo up && exec \"$@\"", "sh" } };
            foreach (var a in mpirun) info.ArgumentList.Add(a);
        }
        else
        {
            info = new ProcessStartInfo(mpirun[0]);
            foreach (var a in mpirun.Skip(1)) info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in Environment) info.Environment[k] = v;
        info.UseShellExecute = false;
        return info;
    }

    /// <summary>
    /// Whether <paramref name="ranks"/> ranks of <paramref name="threadsPerRank"/> threads each are bound to cores of
    /// their own on a machine of <paramref name="cores"/> cores: when there are several ranks and their threads fit.
    /// </summary>
    /// <remarks>
    /// A rank left unbound on a machine with no spare core shares every core with the others: the scheduler moves its
    /// training thread between cores (losing its caches) and runs its helper threads (data loader, communication,
    /// JIT, GC) on the other rank's core, which makes that rank late for the next all-reduce. Bound, each rank's
    /// threads stay on its own core: on 2 cores, 2 ranks of the CLI's Fashion-MNIST loop (loader inline) spent 10 %
    /// less CPU per step and ran 1.01–1.08× faster than unbound in two runs (Note [Distributed], session 28). One rank
    /// is never bound: alone it is `loom train`, whose helper threads use the cores its compute leaves idle.
    /// </remarks>
    public static bool BindsRanks(int ranks, int threadsPerRank, int cores) => ranks > 1 && (long)ranks * threadsPerRank <= cores;

    private static bool TryUnshare()
    {
        if (FindOnPath("unshare") is null || FindOnPath("ip") is null) return false;
        try
        {
            using var p = Process.Start(new ProcessStartInfo("unshare")
            {
                ArgumentList = { "--net", "sh", "-c", "ip link set lo up" },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            if (!p.WaitForExit(10_000))
            {
                p.Kill();
                return false;
            }
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    internal static string? FindOnPath(string name)
    {
        foreach (var dir in (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
