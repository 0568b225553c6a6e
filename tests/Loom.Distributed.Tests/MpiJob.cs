namespace Loom.Distributed.Tests;

/// <summary>
/// Runs this test assembly as N ranks under mpirun (its Main is <see cref="Host.RankHost"/>), inside an empty network
/// namespace where the machine allows one, and collects exit code, output and the <c>RESULT</c> lines.
/// </summary>
internal static class MpiJob
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, Dictionary<string, string> Results)
    {
        public double Number(string key) => double.Parse(Results[key], CultureInfo.InvariantCulture);

        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0} s\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    /// <summary>Runs the scenario; a job still running after <paramref name="limit"/> is killed and reported as exit −1.</summary>
    /// <param name="threadsPerRank">Given, the ranks are placed as `loom launch` places ranks of that many threads (bound
    /// to cores of their own when they fit); null, they are left to the scheduler.</param>
    public static Outcome Run(int ranks, string[] scenario, TimeSpan? limit = null, IReadOnlyDictionary<string, string>? environment = null, int? threadsPerRank = null)
    {
        OpenMpi.Installed.Require();
        string assembly = typeof(Host.RankHost).Assembly.Location;
        string dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var info = MpiLauncher.StartInfo(ranks, dotnet, [assembly, .. scenario], MpiLauncher.CanIsolateNetwork, threadsPerRank);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        bool finished = process.WaitForExit(limit ?? TimeSpan.FromMinutes(3));
        if (!finished) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        var results = stdout.Result.Split('\n')
            .Where(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            .Select(l => l["RESULT ".Length..].Trim().Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv[1]);
        return new Outcome(finished ? process.ExitCode : -1, stdout.Result, stderr.Result, clock.Elapsed, results);
    }
}
