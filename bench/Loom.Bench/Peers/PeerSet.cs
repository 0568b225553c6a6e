using System.Runtime.Intrinsics.X86;
using System.Text.Json.Nodes;

namespace Loom.Bench.Peers;

/// <summary>
/// The peers of one benchmark run. Each starts on first use, with the settings bench/peers/README.md calls tuned,
/// and stays up until the run ends; a peer that cannot start, or a case it cannot set up, is said once on the log and
/// in the report, and the benchmarks go on without it.
/// </summary>
public sealed class PeerSet : IDisposable
{
    /// <summary>The peers Loom knows: name, script in the peers folder, and whether it runs PyTorch.</summary>
    public static readonly IReadOnlyList<(string Name, string Script, bool Torch)> Known =
    [
        ("torch", "torch_peer.py", true),
        ("numpy", "numpy_peer.py", false),
    ];

    /// <summary>Names the Python that runs the peers; Debian's /usr/bin/python3 (which has python3-torch) by default.</summary>
    public const string PythonVariable = "LOOM_PYTHON";

    private readonly TextWriter _log;
    private readonly Func<string?> _findFolder;
    private readonly Dictionary<string, PeerProcess> _running = [];
    private readonly Dictionary<string, string> _unavailable = [];
    private readonly JsonArray _failedCases = [];

    /// <param name="enabled">False: every <see cref="Setup"/> returns null (a run without --peers).</param>
    /// <param name="findFolder">Finds the peers folder; <see cref="PeerFolder.Find()"/> by default.</param>
    public PeerSet(bool enabled, TextWriter log, Func<string?>? findFolder = null)
    {
        Enabled = enabled;
        _log = log;
        _findFolder = findFolder ?? PeerFolder.Find;
    }

    public bool Enabled { get; }

    public static string Python => Environment.GetEnvironmentVariable(PythonVariable) is { Length: > 0 } p ? p : "/usr/bin/python3";

    /// <summary>
    /// Sets up <paramref name="case"/> in peer <paramref name="peer"/> (started if need be); null when peers are off,
    /// the peer is unavailable or the case failed (said on the log).
    /// </summary>
    public PeerCase? Setup(string peer, string @case, int threads, JsonObject? parameters = null, int warmup = 3)
    {
        var process = Get(peer);
        if (process is null) return null;
        try
        {
            return process.Setup(@case, threads, parameters, warmup);
        }
        catch (PeerException e)
        {
            _log.WriteLine($"peer {peer}, case {@case}: {e.Message}; measuring Loom alone");
            _failedCases.Add(new JsonObject { ["peer"] = peer, ["case"] = @case, ["threads"] = threads, ["error"] = e.Message });
            return null;
        }
    }

    private PeerProcess? Get(string name)
    {
        if (!Enabled || _unavailable.ContainsKey(name)) return null;
        if (_running.TryGetValue(name, out var running)) return running;
        var known = Known.FirstOrDefault(k => k.Name == name);
        if (known.Script is null) throw new ArgumentException($"unknown peer '{name}'", nameof(name));
        try
        {
            var folder = _findFolder() ?? throw new PeerException(
                $"no peers folder: none set in {PeerFolder.EnvironmentVariable}, no bench/peers above the working directory, none beside the program");
            var script = Path.Combine(folder, known.Script);
            if (!File.Exists(script)) throw new PeerException($"{script} not found");
            var process = PeerProcess.Start(Python, ["-u", "-B", script, "--serve"], folder, TunedEnvironment(known.Torch));
            _log.WriteLine($"peer {process.Name} {process.Version}: {script}");
            return _running[name] = process;
        }
        catch (PeerException e)
        {
            _log.WriteLine($"peer {name} unavailable: {e.Message}; measuring Loom alone");
            _unavailable[name] = e.Message;
            return null;
        }
    }

    /// <summary>
    /// The variables a peer runs with (null: removed). OpenBLAS 0.3.21 does not recognise recent CPUs and silently
    /// takes its SSE3 kernels, 3–7× slower, so the kernel is named (a preset OPENBLAS_L2_SIZE belongs to whatever kernel
    /// was preset, so it goes). PyTorch with the pthread OpenBLAS oversubscribes the cores: it gets the OpenMP build.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> TunedEnvironment(bool torch)
    {
        bool skylakeX = Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512CD.IsSupported;
        var environment = new Dictionary<string, string?>
        {
            ["OPENBLAS_CORETYPE"] = skylakeX ? "SkylakeX" : Avx2.IsSupported && Fma.IsSupported ? "Haswell" : null,
            ["OPENBLAS_L2_SIZE"] = null,
        };
        const string openMpBlas = "/usr/lib/x86_64-linux-gnu/openblas-openmp";
        if (torch && Directory.Exists(openMpBlas))
        {
            var inherited = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            environment["LD_LIBRARY_PATH"] = string.IsNullOrEmpty(inherited) ? openMpBlas : $"{openMpBlas}:{inherited}";
        }
        return environment;
    }

    /// <summary>The report's "peers" section: each peer that ran (version, script, settings, details) or why it did not.</summary>
    public JsonArray Describe()
    {
        var described = new JsonArray();
        foreach (var (name, process) in _running)
        {
            var environment = new JsonObject();
            foreach (var (key, value) in TunedEnvironment(Known.First(k => k.Name == name).Torch)) environment[key] = value;
            described.Add(new JsonObject
            {
                ["name"] = process.Name,
                ["version"] = process.Version,
                ["environment"] = environment,
                ["details"] = process.Details.DeepClone(),
            });
        }
        foreach (var (name, error) in _unavailable) described.Add(new JsonObject { ["name"] = name, ["error"] = error });
        foreach (var failed in _failedCases) described.Add(failed!.DeepClone());
        return described;
    }

    public void Dispose()
    {
        foreach (var process in _running.Values) process.Dispose();
        _running.Clear();
    }
}
