using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Loom.Bench.Comparison;

namespace Loom.Bench.Peers;

/// <summary>A peer could not start or answer; the message is one line, fit to print.</summary>
public sealed class PeerException(string message) : Exception(message);

/// <summary>
/// A peer started once per benchmark run and kept alive, answering the JSON-line requests of
/// bench/peers/peer_protocol.py: set up a case (with warm-up), then time blocks of its steps on demand. Keeping it
/// alive is what lets Loom alternate its rounds with the peer's in the same seconds.
/// </summary>
public sealed partial class PeerProcess : IDisposable
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromMinutes(10);
    private readonly Process _process;
    private readonly Queue<string> _stderrTail;
    private string? _currentCase;

    private PeerProcess(Process process, Queue<string> stderrTail, string name, string version, JsonObject details)
    {
        _process = process;
        _stderrTail = stderrTail;
        Name = name;
        Version = version;
        Details = details;
    }

    /// <summary>The name the peer gives itself ("torch", "numpy").</summary>
    public string Name { get; }

    public string Version { get; }

    /// <summary>What the peer reports about its build and settings (BLAS kernel, threading layer, environment).</summary>
    public JsonObject Details { get; }

    /// <summary>
    /// Starts <c>EXECUTABLE ARGUMENTS</c> in <paramref name="workingDirectory"/> with <paramref name="environment"/>
    /// applied on top of this process's (a null value removes a variable) and reads the peer's greeting.
    /// </summary>
    /// <exception cref="PeerException">The peer did not start or did not greet; the message says why.</exception>
    public static PeerProcess Start(string executable, IReadOnlyList<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(executable, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new PeerException($"{executable} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PeerException($"{executable} did not start: {e.Message}");
        }
        var tail = new Queue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (tail)
            {
                tail.Enqueue(e.Data);
                if (tail.Count > 20) tail.Dequeue();
            }
        };
        process.BeginErrorReadLine();
        try
        {
            var greeting = ReadAnswer(process, tail, AnswerTimeout, "start");
            var name = greeting["peer"]?.GetValue<string>() ?? throw new PeerException($"peer's greeting names no peer: {greeting.ToJsonString()}");
            return new PeerProcess(process, tail, name, greeting["version"]?.GetValue<string>() ?? "?", greeting["details"] as JsonObject ?? []);
        }
        catch
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Builds <paramref name="case"/> at <paramref name="threads"/> threads and runs <paramref name="warmup"/> steps.</summary>
    /// <exception cref="PeerException">The peer refused or failed (unknown case, missing module, wrong result...).</exception>
    public PeerCase Setup(string @case, int threads, JsonObject? parameters = null, int warmup = 3)
    {
        _currentCase = null;
        var answer = Request(new JsonObject
        {
            ["cmd"] = "setup", ["case"] = @case, ["threads"] = threads, ["params"] = parameters?.DeepClone() ?? new JsonObject(), ["warmup"] = warmup,
        }, $"setup of {@case}");
        _currentCase = @case;
        return new PeerCase(this, @case, answer["step_s"]!.GetValue<double>());
    }

    /// <summary>Times <paramref name="iterations"/> steps of <paramref name="case"/>, which must be the case set up last.</summary>
    internal RoundTiming Run(string @case, int iterations)
    {
        if (_currentCase != @case) throw new InvalidOperationException($"peer case '{@case}' is no longer the one set up ('{_currentCase}')");
        var answer = Request(new JsonObject { ["cmd"] = "run", ["iterations"] = iterations }, $"run of {@case}");
        return new RoundTiming(answer["median_s"]!.GetValue<double>(), answer["min_s"]!.GetValue<double>(), answer["iterations"]!.GetValue<int>())
        {
            Phases = (answer["phases_s"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>()),
        };
    }

    private JsonObject Request(JsonObject request, string what)
    {
        try
        {
            _process.StandardInput.WriteLine(request.ToJsonString());
            _process.StandardInput.Flush();
        }
        catch (IOException)
        {
            throw Fail(_process, _stderrTail, what, "it has exited");
        }
        var answer = ReadAnswer(_process, _stderrTail, AnswerTimeout, what);
        if (answer["ok"]?.GetValue<bool>() == true) return answer;
        throw new PeerException($"{Name}: {what} failed: {answer["error"]?.GetValue<string>() ?? answer.ToJsonString()}");
    }

    private static JsonObject ReadAnswer(Process process, Queue<string> stderrTail, TimeSpan timeout, string what)
    {
        var read = process.StandardOutput.ReadLineAsync();
        if (!read.Wait(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new PeerException($"peer gave no answer to {what} within {timeout.TotalMinutes:0} minutes");
        }
        var line = read.Result ?? throw Fail(process, stderrTail, what, "it exited");
        try
        {
            return JsonNode.Parse(line) as JsonObject ?? throw new JsonException();
        }
        catch (JsonException)
        {
            throw new PeerException($"peer printed something other than a JSON answer to {what}: {line}");
        }
    }

    // The one line that says why a peer died: a missing Python module gets the package to install.
    private static PeerException Fail(Process process, Queue<string> stderrTail, string what, string reason)
    {
        process.WaitForExit(5000);
        string[] tail;
        lock (stderrTail) tail = [.. stderrTail];
        var module = tail.Select(l => MissingModule().Match(l)).FirstOrDefault(m => m.Success);
        if (module is not null)
            return new PeerException($"{process.StartInfo.FileName} lacks the Python module '{module.Groups[1].Value}' " +
                "(apt-get install python3-numpy python3-threadpoolctl python3-torch)");
        var last = tail.LastOrDefault(l => !string.IsNullOrWhiteSpace(l))?.Trim() ?? "no message";
        var code = process.HasExited ? $" with code {process.ExitCode.ToString(CultureInfo.InvariantCulture)}" : "";
        return new PeerException($"peer failed at {what}: {reason}{code}: {last}");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("{\"cmd\": \"quit\"}");
                _process.StandardInput.Close();
                if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
            }
        }
        catch (IOException)
        {
            // It exited between the check and the write: nothing left to stop.
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"No module named '([^']+)'")]
    private static partial Regex MissingModule();
}

/// <summary>A case set up in a peer: its warm-up step time, and blocks of its steps timed on demand.</summary>
public sealed class PeerCase(PeerProcess process, string name, double stepSeconds)
{
    public PeerProcess Process => process;

    public string Name => name;

    /// <summary>Seconds of the last warm-up step: the estimate that sizes the first round.</summary>
    public double StepSeconds => stepSeconds;

    /// <summary>Times <paramref name="iterations"/> steps in the peer.</summary>
    public RoundTiming Run(int iterations) => process.Run(name, iterations);
}
