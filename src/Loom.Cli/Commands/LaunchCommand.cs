using System.Runtime.InteropServices;
using Loom.Distributed;

namespace Loom.Cli.Commands;

/// <summary>
/// `loom launch -n N -- train …`: runs `loom train … --distributed` as N ranks on this machine through mpirun, with
/// the flags one machine needs (<see cref="MpiLauncher"/>), and passes the job's exit code on.
/// </summary>
internal static class LaunchCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var ranks = new Option<int>("-n", "--ranks") { Description = "processes (ranks) to start", DefaultValueFactory = _ => 2 };
        var isolate = new Option<bool>("--isolate-network")
        {
            Description = "run the job in an empty network namespace (unshare --net), so mpirun listens on nothing reachable; needs the right to create namespaces",
        };
        var bind = new Option<string>("--bind-to")
        {
            Description = "core: each rank on cores of its own (when the ranks' threads fit the machine's cores); none: leave the ranks to the OS scheduler",
            DefaultValueFactory = _ => "core",
        };
        bind.AcceptOnlyFromAmong("core", "none");
        var rest = new Argument<string[]>("command") { Description = "the loom command each rank runs, after --: train …", Arity = ArgumentArity.OneOrMore };
        var command = new Command("launch", "Run a loom command as N data-parallel ranks on this machine through OpenMPI's mpirun") { ranks, isolate, bind, rest };
        command.SetAction(parse =>
        {
            var args = parse.GetValue(rest)!.ToList();
            if (args[0] != "train") throw new UserErrorException($"launch: only train runs distributed, not '{args[0]}'; give loom launch -n N -- train …");
            int n = parse.GetValue(ranks);
            if (n < 1) throw new UserErrorException($"launch: -n {n}: give at least 1 rank");
            if (!MpiLauncher.IsAvailable) throw new UserErrorException("launch: mpirun was not found; install OpenMPI (Debian: apt-get install openmpi-bin libopenmpi-dev)");
            if (!args.Contains("--distributed")) args.Add("--distributed");
            // N ranks × T threads want N·T cores: without --threads, the cores are shared out rather than each rank
            // taking them all (train's own default), which would oversubscribe the machine N-fold.
            if (!args.Contains("--threads")) args.AddRange(["--threads", Math.Max(1, Environment.ProcessorCount / n).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            int at = args.LastIndexOf("--threads");
            int? threads = at + 1 < args.Count && int.TryParse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture, out int t) && t > 0 ? t : null;
            // The same loom the user ran: the tool's executable, or `dotnet loom.dll` when run through dotnet.
            var program = Environment.ProcessPath!;
            if (Path.GetFileNameWithoutExtension(program) == "dotnet") args.Insert(0, typeof(LaunchCommand).Assembly.Location);
            bool isolated = parse.GetValue(isolate);
            if (isolated && !MpiLauncher.CanIsolateNetwork) throw new UserErrorException("launch: --isolate-network: unshare --net is not permitted here");
            var info = MpiLauncher.StartInfo(n, program, args, isolated, parse.GetValue(bind) == "core" ? threads : null);
            console.MarkupLine($"[bold]loom launch[/] {n} ranks: {Markup.Escape(string.Join(' ', args))}");
            using var job = Process.Start(info)!;
            int code = WaitForJob(job);
            if (code != 0) Console.Error.WriteLine($"loom launch: the job ended with exit code {code}{(code == 137 ? " (a rank was killed)" : "")}");
            return code;
        });
        return command;
    }

    /// <summary>After a stop signal, how long mpirun has to end the ranks (each saves its checkpoint) before the job is killed.</summary>
    internal static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Waits for mpirun. SIGTERM or SIGINT sent to this process alone (a job scheduler, kill PID) used to end it at
    /// once and leave mpirun and its ranks training on, orphaned; they are passed on to mpirun as SIGTERM, which stops
    /// the ranks (each saves its checkpoint as a single `loom train` does), and the wait after that is bounded.
    /// </summary>
    private static int WaitForJob(Process job)
    {
        long signalled = 0;
        void Forward(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Interlocked.CompareExchange(ref signalled, Stopwatch.GetTimestamp(), 0) == 0) _ = Kill(job.Id, Sigterm);
        }
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, Forward))
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, Forward))
        {
            while (!job.WaitForExit(200))
            {
                long at = Interlocked.Read(ref signalled);
                if (at != 0 && Stopwatch.GetElapsedTime(at) > StopGrace)
                {
                    Console.Error.WriteLine($"loom launch: the job did not stop within {StopGrace.TotalSeconds:F0} s of the signal; killing it");
                    job.Kill(entireProcessTree: true);
                    job.WaitForExit();
                    return 137;
                }
            }
            job.WaitForExit(); // and its output is flushed
            return job.ExitCode;
        }
    }

    private const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
