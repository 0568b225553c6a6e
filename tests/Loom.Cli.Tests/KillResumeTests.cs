using System.Diagnostics;
using Loom.Nn.Serialization;

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

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>`dotnet loom.dll ARGS`, with the loom.dll built beside this test assembly.</summary>
    private static Process Start(params string[] args)
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
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void RunToCompletion(params string[] args)
    {
        using var process = Start(args);
        if (!process.WaitForExit(Timeout))
        {
            process.Kill();
            Assert.Fail($"loom {string.Join(' ', args)} did not finish within {Timeout}");
        }
        Assert.True(process.ExitCode == 0, $"loom {string.Join(' ', args)} exited with {process.ExitCode}");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void A_run_killed_after_its_first_checkpoint_resumes_to_the_same_weights()
    {
        var killedRoot = _temp.File("killed");
        string folder;
        using (var process = Start([.. Recipe, "--output", killedRoot]))
        {
            var clock = Stopwatch.StartNew();
            string? checkpoint = null;
            while (checkpoint is null)
            {
                Assert.False(process.HasExited, $"loom exited (code {(process.HasExited ? process.ExitCode : 0)}) before writing a checkpoint");
                Assert.True(clock.Elapsed < Timeout, "no checkpoint appeared in time");
                checkpoint = Directory.Exists(killedRoot) ? Directory.GetFiles(killedRoot, "last.ckpt", SearchOption.AllDirectories).FirstOrDefault() : null;
                if (checkpoint is null) Thread.Sleep(5);
            }
            process.Kill(); // SIGKILL: no handler runs, nothing is flushed
            Assert.True(process.WaitForExit(Timeout));
            folder = Path.GetDirectoryName(checkpoint)!;
        }
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")), "the run finished before it was killed, so this test proved nothing");
        Assert.False(File.Exists(Path.Combine(folder, "last.ckpt.tmp")) && !File.Exists(Path.Combine(folder, "last.ckpt")));

        RunToCompletion("train", "--resume", folder);
        var straightRoot = _temp.File("straight");
        RunToCompletion([.. Recipe, "--output", straightRoot]);
        var straight = Assert.Single(Directory.GetDirectories(straightRoot));

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
}
