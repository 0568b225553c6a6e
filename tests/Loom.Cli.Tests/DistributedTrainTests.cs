using System.Diagnostics;
using Loom.Distributed;

namespace Loom.Cli.Tests;

/// <summary>
/// `loom train --distributed` as real ranks under mpirun: a rank killed with SIGKILL mid-run ends the job within
/// seconds with mpirun naming it, the checkpoint rank 0 wrote survives, and resuming it with another rank count
/// (one plain process) ends with the weights of an uninterrupted two-rank run.
/// </summary>
public sealed class DistributedTrainTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    // The global batch of 16 is 8 per rank; several hundred steps per epoch leave time to kill inside epoch 2. No
    // dropout: each rank draws masks for its own shard, which one process drawing for the whole batch cannot repeat.
    // SGD rather than Adam: Adam divides by the gradient's running magnitude, which turns float rounding on
    // near-zero gradients into full-size steps, so two summation orders drift apart over hundreds of steps.
    private static readonly string[] Recipe = ["train", "--model", "mlp", "--hidden", "32", "--epochs", "2", "--batch-size", "16", "--threads", "1",
        "--dropout", "0", "--optimizer", "sgd"];

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static Process Start(int ranks, string[] args, System.Text.StringBuilder output, IReadOnlyDictionary<string, string>? environment = null)
    {
        OpenMpi.Installed.Require();
        var loom = Path.Combine(AppContext.BaseDirectory, "loom.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = MpiLauncher.StartInfo(ranks, dotnet, [loom, .. args, "--distributed"], MpiLauncher.CanIsolateNetwork);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (output) output.AppendLine(l); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (output) output.AppendLine(l); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static string Folder(string root) => Assert.Single(Directory.GetDirectories(root));

    private static Dictionary<string, float[]> Weights(string folder) =>
        SafeTensors.Load(Path.Combine(folder, "model.safetensors")).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>());

    [MpiFact]
    public void Loom_launch_binds_each_rank_to_a_core_of_its_own_and_a_rank_with_one_core_loads_its_batches_inline()
    {
        OpenMpi.Installed.Require();
        var loom = Path.Combine(AppContext.BaseDirectory, "loom.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        string[] isolate = MpiLauncher.CanIsolateNetwork ? ["--isolate-network"] : [];
        string Run(string bind)
        {
            var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            string[] args = [loom, "launch", "-n", "2", "--bind-to", bind, .. isolate, "--", .. Recipe, "--max-steps", "5", "--output", _temp.File($"run-{bind}")];
            foreach (var a in args)
                info.ArgumentList.Add(a);
            info.Environment["LOOM_PROFILE_STEP"] = "1";
            using var job = Process.Start(info)!;
            var stdout = job.StandardOutput.ReadToEndAsync();
            var stderr = job.StandardError.ReadToEndAsync();
            Assert.True(job.WaitForExit(Limit), "the job did not finish");
            job.WaitForExit();
            string log = stdout.Result + stderr.Result;
            Assert.True(job.ExitCode == 0, $"exit {job.ExitCode}: {log}");
            return log;
        }
        // "[profile rank r] cores N (cpus LIST), loader prefetch P", one line per rank.
        (int Cores, string Cpus, int Prefetch)[] Placement(string log) =>
        [
            .. Enumerable.Range(0, 2).Select(r =>
            {
                var m = System.Text.RegularExpressions.Regex.Match(log, $@"\[profile rank {r}\] cores (\d+) \(cpus ([^)]*)\), loader prefetch (\d+)");
                Assert.True(m.Success, $"no placement line from rank {r}: {log}");
                return (int.Parse(m.Groups[1].Value), m.Groups[2].Value, int.Parse(m.Groups[3].Value));
            }),
        ];
        int cores = Environment.ProcessorCount;
        var bound = Placement(Run("core"));
        if (MpiLauncher.BindsRanks(2, 1, cores))
        {
            // One core each, not the same one, and no loader thread to take it from the training thread.
            Assert.All(bound, p => Assert.Equal((1, 0), (p.Cores, p.Prefetch)));
            Assert.NotEqual(bound[0].Cpus, bound[1].Cpus);
        }
        else
        {
            Assert.All(bound, p => Assert.Equal(cores, p.Cores));
        }
        // Left to the scheduler, each rank may run anywhere and keeps its loader's worker where a core is spare.
        Assert.All(Placement(Run("none")), p => Assert.Equal((cores, cores > 1 ? 2 : 0), (p.Cores, p.Prefetch)));
    }

    [MpiFact]
    public void The_step_timeline_of_two_ranks_shows_neither_leaving_the_gradient_sync_before_both_entered()
    {
        var timeline = _temp.File("timeline");
        var log = new System.Text.StringBuilder();
        using (var job = Start(2, [.. Recipe, "--max-steps", "20", "--output", _temp.File("run")], log,
            new Dictionary<string, string> { ["LOOM_PROFILE_STEP"] = "1", ["LOOM_PROFILE_TIMELINE"] = timeline }))
        {
            Assert.True(job.WaitForExit(Limit), $"the job did not finish: {log}");
            job.WaitForExit();
            Assert.True(job.ExitCode == 0, $"exit {job.ExitCode}: {log}");
        }
        var files = Directory.GetFiles(timeline).Order().ToArray();
        Assert.Equal(2, files.Length);
        Assert.StartsWith("timeline-rank0-", Path.GetFileName(files[0]));
        var ranks = files.Select(f => File.ReadAllLines(f)[2..].Select(l => l.Split('\t').Select(long.Parse).ToArray()).ToArray()).ToArray();
        var header = File.ReadAllLines(files[0])[1].Split('\t');
        int metrics = Array.IndexOf(header, "metrics"), sync = Array.IndexOf(header, "sync"), callbacks = Array.IndexOf(header, "callbacks");
        Assert.All(ranks, r => Assert.Equal(20, r.Length));
        for (int step = 0; step < 20; step++)
        {
            foreach (var r in ranks)
                for (int phase = 1; phase <= callbacks; phase++) Assert.True(r[step][phase - 1] <= r[step][phase], $"step {step}: phase {header[phase]} ends before {header[phase - 1]}");
            // The all-reduce completes only once both ranks are in it: one clock for both processes.
            Assert.True(Math.Max(ranks[0][step][metrics], ranks[1][step][metrics]) <= Math.Min(ranks[0][step][sync], ranks[1][step][sync]),
                $"step {step}: a rank left the gradient sync before the other entered it");
        }
    }

    [MpiFact]
    [Trait("Category", "Slow")]
    public void A_rank_killed_mid_run_stops_the_job_and_the_checkpoint_resumes_with_another_rank_count_to_the_same_weights()
    {
        var whole = _temp.File("whole");
        var log = new System.Text.StringBuilder();
        using (var job = Start(2, [.. Recipe, "--output", whole], log))
        {
            Assert.True(job.WaitForExit(Limit), $"the uninterrupted job did not finish: {log}");
            job.WaitForExit();
            Assert.True(job.ExitCode == 0, $"exit {job.ExitCode}: {log}");
        }
        Assert.Matches("2 ranks × 1 thread(?!s)", log.ToString());
        Assert.Single(Regex(log.ToString(), "stopped: completed")); // rank 0 alone reports

        var killed = _temp.File("killed");
        var killLog = new System.Text.StringBuilder();
        string folder;
        using (var job = Start(2, [.. Recipe, "--output", killed], killLog))
        {
            var clock = Stopwatch.StartNew();
            while (!(Directory.Exists(killed) && Directory.GetFiles(killed, "last.ckpt", SearchOption.AllDirectories).Length > 0))
            {
                Assert.False(job.HasExited, $"the job ended before its first checkpoint: {killLog}");
                Assert.True(clock.Elapsed < Limit, "no checkpoint appeared in time");
                Thread.Sleep(5);
            }
            folder = Folder(killed);
            int rank1 = RankProcess(killed, 1);
            Process.GetProcessById(rank1).Kill(); // SIGKILL
            var killedAt = Stopwatch.StartNew();
            Assert.True(job.WaitForExit(TimeSpan.FromSeconds(30)), "the job did not stop within 30 s of a rank's death");
            job.WaitForExit();
            Assert.NotEqual(0, job.ExitCode);
            Assert.InRange(killedAt.Elapsed.TotalSeconds, 0, 30);
        }
        // mpirun's own report names the rank and the signal.
        Assert.Matches("rank 1 .*(signal 9|Killed)", killLog.ToString().Replace('\n', ' '));
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")), "the run finished before it was killed, so this test proved nothing");
        Assert.True(File.Exists(Path.Combine(folder, "last.ckpt")));

        // One plain process continues the two-rank run: the config's batch is the global batch, so it is the same run.
        var resumed = CliRunner.Succeed("train", "--resume", folder);
        Assert.Contains("resumed at epoch", resumed.Output);
        var expected = Weights(Folder(whole));
        var got = Weights(folder);
        Assert.Equal(expected.Keys.Order(), got.Keys.Order());
        foreach (var (name, values) in expected)
            for (int i = 0; i < values.Length; i++)
                Assert.True(Math.Abs(values[i] - got[name][i]) <= 1e-4f + 1e-3f * Math.Abs(values[i]), $"{name}[{i}]: {got[name][i]} vs uninterrupted {values[i]}");
    }

    [MpiFact]
    [Trait("Category", "Slow")]
    public void Sigterm_to_loom_launch_stops_its_ranks_instead_of_leaving_them_training()
    {
        OpenMpi.Installed.Require();
        // `kill PID` of loom launch (a job scheduler's stop) ended launch at once and left mpirun and both ranks
        // training on, orphaned; now it passes SIGTERM on and waits for the job, a bounded wait.
        var root = _temp.File("launched");
        var loom = Path.Combine(AppContext.BaseDirectory, "loom.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] isolate = MpiLauncher.CanIsolateNetwork ? ["--isolate-network"] : [];
        var recipe = Recipe.ToArray();
        recipe[Array.IndexOf(recipe, "--epochs") + 1] = "50"; // long enough never to finish before the signal
        string[] args = [loom, "launch", "-n", "2", .. isolate, "--", .. recipe, "--output", root];
        foreach (var a in args) info.ArgumentList.Add(a);
        var log = new System.Text.StringBuilder();
        using var launch = Process.Start(info)!;
        launch.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (log) log.AppendLine(l); };
        launch.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (log) log.AppendLine(l); };
        launch.BeginOutputReadLine();
        launch.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (!(Directory.Exists(root) && Directory.GetFiles(root, "last.ckpt", SearchOption.AllDirectories).Length > 0))
        {
            Assert.False(launch.HasExited, $"the job ended before its first checkpoint: {log}");
            Assert.True(clock.Elapsed < Limit, "no checkpoint appeared in time");
            Thread.Sleep(5);
        }
        int rank0 = RankProcess(root, 0);
        Assert.Equal(0, Kill(launch.Id, 15));
        Assert.True(launch.WaitForExit(LaunchCommandGrace + TimeSpan.FromSeconds(30)), $"loom launch did not end after SIGTERM: {log}");
        launch.WaitForExit();
        Assert.NotEqual(0, launch.ExitCode);
        // The ranks went with it: none is left under any parent.
        var rankGone = Stopwatch.StartNew();
        while (Alive(rank0) && rankGone.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(50);
        Assert.False(Alive(rank0), $"rank 0 (pid {rank0}) still runs after loom launch ended: {log}");
    }

    private static readonly TimeSpan LaunchCommandGrace = TimeSpan.FromSeconds(60);

    private static bool Alive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [MpiFact]
    public void Sync_batchnorm_makes_two_ranks_train_the_cnn_as_one_process_with_the_whole_batch()
    {
        // The digits CNN has batch norm; each rank sees 8 of the global 16 samples a step.
        string[] recipe = ["train", "--model", "cnn", "--max-steps", "12", "--epochs", "1", "--batch-size", "16", "--threads", "1",
            "--dropout", "0", "--optimizer", "sgd", "--lr", "0.05", "--val-fraction", "0"];
        var single = _temp.File("single");
        CliRunner.Succeed([.. recipe, "--output", single]);
        var expected = Weights(Folder(single));

        Dictionary<string, float[]> TwoRanks(string name, params string[] extra)
        {
            var root = _temp.File(name);
            var log = new System.Text.StringBuilder();
            using var job = Start(2, [.. recipe, .. extra, "--output", root], log);
            Assert.True(job.WaitForExit(Limit), $"the job did not finish: {log}");
            job.WaitForExit();
            Assert.True(job.ExitCode == 0, $"exit {job.ExitCode}: {log}");
            return Weights(Folder(root));
        }
        static double Worst(Dictionary<string, float[]> a, Dictionary<string, float[]> b) =>
            a.Where(kv => !kv.Key.Contains("num_batches", StringComparison.Ordinal))
             .Max(kv => kv.Value.Zip(b[kv.Key], (x, y) => Math.Abs(x - y) / (1e-3 + Math.Abs(x))).DefaultIfEmpty(0).Max());

        var synced = TwoRanks("synced", "--sync-batchnorm");
        var perRank = TwoRanks("per-rank");
        Assert.Equal(expected.Keys.Order(), synced.Keys.Order());
        Assert.InRange(Worst(expected, synced), 0, 1e-2);
        // Per-rank statistics train a different model: the synchronised comparison above is not vacuous.
        Assert.InRange(Worst(expected, perRank), 1e-1, double.MaxValue);
    }

    [Fact]
    public void Distributed_outside_mpirun_and_launching_anything_but_train_are_one_line_errors()
    {
        CliRunner.Fail(["train", "--distributed"], "--distributed", "not started by mpirun", "loom launch -n N -- train");
        CliRunner.Fail(["train", "--sync-batchnorm"], "--sync-batchnorm", "--distributed");
        CliRunner.Fail(["launch", "-n", "2", "--", "eval", "runs/x"], "launch", "only train runs distributed");
        CliRunner.Fail(["launch", "-n", "0", "--", "train"], "-n 0", "at least 1 rank");
    }

    private static string[] Regex(string text, string pattern) => [.. System.Text.RegularExpressions.Regex.Matches(text, pattern).Select(m => m.Value)];

    /// <summary>The PID of the rank of the job whose command line names <paramref name="marker"/>.</summary>
    private static int RankProcess(string marker, int rank)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                if (!File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(marker, StringComparison.Ordinal)) continue;
                var environ = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (environ.Contains($"OMPI_COMM_WORLD_RANK={rank}")) return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        throw new InvalidOperationException($"no process of rank {rank} with {marker} on its command line");
    }
}
