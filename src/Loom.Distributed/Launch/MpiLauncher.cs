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
    public static ProcessStartInfo StartInfo(int ranks, string program, IEnumerable<string> arguments, bool isolateNetwork)
    {
        if (ranks < 1) throw new ArgumentOutOfRangeException(nameof(ranks), ranks, "launch: the number of ranks must be at least 1");
        var mpirun = new List<string>
        {
            "mpirun", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // More ranks than cores is allowed (tests, a laptop); binding is left to the OS so oversubscribed
            // ranks are not pinned onto the same core.
            "--oversubscribe", "--bind-to", "none",
            program,
        };
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
