using System.Diagnostics;

namespace Loom.Cli.Tests;

/// <summary>
/// The real `loom` process, killed with SIGKILL after its first checkpoint and resumed with `--resume`, must end with
/// exactly the weights of a run that was never interrupted.
/// </summary>
public sealed class KillResumeTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    // Batches of 16 make an epoch long enough (several hundred steps) for the kill to land mid-run on a busy machine.
    private static readonly string[] Recipe = ["train", "--model", "mlp", "--hidden", "32", "--epochs", "3", "--batch-size", "16", "--threads", "1"];

    // The SIGTERM test waits 300 ms into training: with loops optimised from their first call (the loom executable's
    // TieredCompilationQuickJitForLoops=false) three epochs of this MLP can be over by then.
    private static readonly string[] LongRecipe = ["train", "--model", "mlp", "--hidden", "32", "--epochs", "20", "--batch-size", "16", "--threads", "1"];

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>`dotnet loom.dll ARGS`, with the loom.dll built beside this test assembly.</summary>
    private static Process Start(string[] args, System.Text.StringBuilder? output = null)
    {
        var loom = Path.Combine(AppContext.BaseDirectory, "loom.dll");
        Assert.True(File.Exists(loom), $"{loom} is missing; the test project must reference Loom.Cli");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(loom);
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        // Drain both pipes so a chatty child can never block on a full pipe.
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && output is not null) lock (output) output.AppendLine(line);
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs to the end and returns what it printed on standard output.</summary>
    private static string RunToCompletion(params string[] args)
    {
        var output = new System.Text.StringBuilder();
        using var process = Start(args, output);
        if (!process.WaitForExit(Timeout))
        {
            process.Kill();
            Assert.Fail($"loom {string.Join(' ', args)} did not finish within {Timeout}");
        }
        process.WaitForExit(); // and the output pipes are drained
        Assert.True(process.ExitCode == 0, $"loom {string.Join(' ', args)} exited with {process.ExitCode}: {output}");
        return output.ToString();
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void A_run_killed_after_its_first_checkpoint_resumes_to_the_same_weights()
    {
        var killedRoot = _temp.File("killed");
        string folder;
        using (var process = Start([.. Recipe, "--output", killedRoot]))
        {
            var checkpoint = WaitForCheckpoint(process, killedRoot);
            process.Kill(); // SIGKILL: no handler runs, nothing is flushed
            Assert.True(process.WaitForExit(Timeout));
            folder = Path.GetDirectoryName(checkpoint)!;
        }
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")), "the run finished before it was killed, so this test proved nothing");
        Assert.False(File.Exists(Path.Combine(folder, "last.ckpt.tmp")) && !File.Exists(Path.Combine(folder, "last.ckpt")));

        // Where the checkpoint says the killed run was: the resumed run must start there, not retrain from step 0
        // (a fresh run is reseeded, so ignoring the checkpoint would still end with the same weights).
        var saved = System.Text.Json.Nodes.JsonNode.Parse(SafeTensors.Load(Path.Combine(folder, "last.ckpt")).Metadata["loom.trainer"])!;
        int epoch = (int)saved["epoch"]!, batch = (int)saved["batch_in_epoch"]!;
        long step = (long)saved["global_step"]!;
        Assert.True(step > 0, "the checkpoint holds no step yet, so resuming from it proves nothing");

        var resumedOutput = RunToCompletion("train", "--resume", folder);
        var straightRoot = _temp.File("straight");
        var straightOutput = RunToCompletion([.. Recipe, "--output", straightRoot]);
        var straight = Assert.Single(Directory.GetDirectories(straightRoot));

        long total = StepsOf(straightOutput, "straight");
        Assert.Contains($"stopped: completed; {total - step} steps in this run, resumed at epoch {epoch + 1} batch {batch} (step {step})", resumedOutput);

        var resumed = SafeTensors.Load(Path.Combine(folder, "model.safetensors")).Tensors;
        var expected = SafeTensors.Load(Path.Combine(straight, "model.safetensors")).Tensors;
        Assert.Equal(expected.Keys.Order(), resumed.Keys.Order());
        foreach (var (name, tensor) in expected)
            Loom.Testing.TensorAssert.Close(tensor.ToArray<float>(), resumed[name].ToArray<float>(), atol: 0, rtol: 0, what: name + " ");

        // The resumed log has each epoch once, with the same losses as the uninterrupted run's.
        var resumedEpochs = TestData.Metrics(folder).Where(l => (string?)l["kind"] == "epoch").ToList();
        var straightEpochs = TestData.Metrics(straight).Where(l => (string?)l["kind"] == "epoch").ToList();
        Assert.Equal([1, 2, 3], resumedEpochs.Select(l => (int)l["epoch"]!));
        Assert.Equal(straightEpochs.Select(l => (double)l["val_loss"]!), resumedEpochs.Select(l => (double)l["val_loss"]!));
        Assert.Single(TestData.Metrics(folder), l => (string?)l["kind"] == "test");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void A_run_sent_SIGTERM_saves_where_it_stopped_and_resumes_from_there()
    {
        var root = _temp.File("terminated");
        var output = new System.Text.StringBuilder();
        string folder;
        using (var process = Start([.. LongRecipe, "--output", root], output))
        {
            var checkpoint = WaitForCheckpoint(process, root);
            folder = Path.GetDirectoryName(checkpoint)!;
            Thread.Sleep(300); // into the second epoch, so that stopping leaves a batch position to save
            Assert.Equal(0, Kill(process.Id, Sigterm));
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "loom did not stop within a minute of SIGTERM");
            process.WaitForExit();
            Assert.True(process.ExitCode == 143, $"exit code {process.ExitCode}, output: {output}");
        }
        var saved = System.Text.Json.Nodes.JsonNode.Parse(SafeTensors.Load(Path.Combine(folder, "last.ckpt")).Metadata["loom.trainer"])!;
        int epoch = (int)saved["epoch"]!, batch = (int)saved["batch_in_epoch"]!;
        long step = (long)saved["global_step"]!;
        // The checkpoint holds exactly where the run stopped. Without the handler .NET ends the process on SIGTERM
        // (exit 143 too) with no such line, and the last checkpoint is an earlier epoch's end. The stop may fall on
        // an epoch's end (batch 0) on a loaded machine: the run must still be left unfinished, not reported as done.
        Assert.Contains($"stopped (terminated) at epoch {epoch + 1} batch {batch} (step {step}); ", output.ToString());
        Assert.Contains("checkpoint saved", output.ToString());
        Assert.DoesNotContain(TestData.Metrics(folder), l => (string?)l["kind"] == "test"); // not reported as finished

        var resumed = RunToCompletion("train", "--resume", folder);
        Assert.Contains($"resumed at epoch {epoch + 1} batch {batch} (step {step})", resumed);
    }

    private const int Sigterm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>The path of the first last.ckpt the process writes under <paramref name="root"/>.</summary>
    private static string WaitForCheckpoint(Process process, string root)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(process.HasExited, $"loom exited (code {(process.HasExited ? process.ExitCode : 0)}) before writing a checkpoint");
            Assert.True(clock.Elapsed < Timeout, "no checkpoint appeared in time");
            if (Directory.Exists(root) && Directory.GetFiles(root, "last.ckpt", SearchOption.AllDirectories).FirstOrDefault() is { } checkpoint) return checkpoint;
            Thread.Sleep(5);
        }
    }

    /// <summary>The step count a finished fresh run printed ("stopped: completed; N steps; …").</summary>
    private static long StepsOf(string output, string run)
    {
        var match = System.Text.RegularExpressions.Regex.Match(output, @"stopped: completed; (\d+) steps;");
        Assert.True(match.Success, $"the {run} run printed no step count: {output}");
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
