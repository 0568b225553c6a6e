using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Loom.Bench;

/// <summary>
/// Runs the peer scripts of ../shared/peers (OpenBLAS through numpy, PyTorch) so that Loom and its peers are
/// measured in the same run: on a shared machine only such side-by-side ratios mean much.
/// </summary>
public static partial class Peers
{
    public const string Python = "/usr/bin/python3";

    /// <summary>The output of one peer run; <see cref="Error"/> is set (and the figures are missing) when it failed.</summary>
    public sealed record Run(string StandardOutput, string? Error);

    /// <summary>
    /// The peers folder: env LOOM_PEERS, else the first `shared/peers` found walking up from the current directory,
    /// then from this assembly's location; null when there is none.
    /// </summary>
    public static string? FindFolder()
    {
        var fromEnv = Environment.GetEnvironmentVariable("LOOM_PEERS");
        if (!string.IsNullOrEmpty(fromEnv)) return Directory.Exists(fromEnv) ? Path.GetFullPath(fromEnv) : null;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "peers");
                if (Directory.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>
    /// Runs `python3 SCRIPT` from the peers folder with the tuned environment of its README: OpenBLAS forced to its
    /// SkylakeX kernels (0.3.21 does not recognise Zen 4 and would fall back to SSE3), and for torch the OpenMP
    /// OpenBLAS (the pthread one oversubscribes the cores).
    /// </summary>
    public static Run RunScript(string script, bool torch = false, IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null, IReadOnlyList<string>? arguments = null)
    {
        var folder = FindFolder();
        if (folder is null) return new Run("", "peers folder not found (set LOOM_PEERS or run from inside the workspace)");
        if (!File.Exists(Python)) return new Run("", $"{Python} not found");
        var path = Path.Combine(folder, script);
        if (!File.Exists(path)) return new Run("", $"{path} not found");

        var start = new ProcessStartInfo(Python, [path, .. arguments ?? []])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["OPENBLAS_CORETYPE"] = "SkylakeX";
        if (torch) start.Environment["LD_LIBRARY_PATH"] = "/usr/lib/x86_64-linux-gnu/openblas-openmp";
        if (environment is not null)
            foreach (var (key, value) in environment) start.Environment[key] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            return new Run(stdout.Result, $"{script} timed out");
        }
        if (process.ExitCode == 0) return new Run(stdout.Result, null);
        var err = stderr.Result;
        if (err.Contains("No module named", StringComparison.Ordinal))
        {
            var module = MissingModule().Match(err);
            return new Run(stdout.Result,
                $"{Python} lacks the module '{(module.Success ? module.Groups[1].Value : "?")}' " +
                "(apt-get install python3-numpy python3-threadpoolctl python3-torch); running without this peer");
        }
        var lastLine = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        return new Run(stdout.Result, $"{script} exited with {process.ExitCode}: {lastLine}");
    }

    /// <summary>
    /// OpenBLAS SGEMM through numpy (blas_bench.py): median GFLOP/s by (n, threads) for square sizes, plus the BLAS
    /// description line it prints; figures is null when the peer could not run (see <c>error</c>).
    /// </summary>
    public static (Dictionary<(int N, int Threads), double>? Figures, string Description, string? Error) OpenBlasSgemm(IEnumerable<int> sizes)
    {
        var run = RunScript("blas_bench.py", environment: new Dictionary<string, string> { ["SIZES"] = string.Join(' ', sizes) });
        if (run.Error is not null) return (null, "", run.Error);
        var figures = new Dictionary<(int, int), double>();
        string description = "";
        foreach (var line in run.StandardOutput.Split('\n'))
        {
            if (line.StartsWith("BLAS:", StringComparison.Ordinal)) description = line.Trim();
            // "  1024 |    104.1    101.9 |    201.0    196.3   GFLOP/s": best and median per thread count
            var row = BlasRow().Match(line);
            if (!row.Success) continue;
            int n = int.Parse(row.Groups[1].Value, CultureInfo.InvariantCulture);
            figures[(n, 1)] = double.Parse(row.Groups[3].Value, CultureInfo.InvariantCulture);
            figures[(n, 2)] = double.Parse(row.Groups[5].Value, CultureInfo.InvariantCulture);
        }
        return figures.Count == 0 ? (null, description, "blas_bench.py printed no figures") : (figures, description, null);
    }

    [GeneratedRegex(@"^\s*(\d+)\s*\|\s*([\d.]+)\s+([\d.]+)\s*\|\s*([\d.]+)\s+([\d.]+)\s+GFLOP/s")]
    private static partial Regex BlasRow();

    [GeneratedRegex(@"No module named '([^']+)'")]
    private static partial Regex MissingModule();
}
