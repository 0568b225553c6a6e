using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Loom.Distributed;
using Loom.Nn;

namespace Loom.Bench.Distributed;

/// <summary>
/// What each rank of a Loom MPI job runs when `loom bench distributed` starts one (<c>Loom.Bench __rank-server</c>
/// under mpirun): a peer of bench/peers/peer_protocol.py, so the benchmark drives a whole job exactly as it drives a
/// Python peer. mpirun connects rank 0 to the benchmark's stdin and stdout; rank 0 hands every request on to the
/// others, every rank sets up and runs the same case, and rank 0 answers with its own timings (every case ends each
/// step in a collective, so rank 0's step is the job's).
/// </summary>
internal static class RankServer
{
    public const string Command = "__rank-server";

    public static int Run()
    {
        var world = Mpi.Initialize();
        int code = Mpi.RunOrAbort(() =>
        {
            Serve(world, world.Rank == 0 ? Console.Out : TextWriter.Null);
            return 0;
        });
        Mpi.Shutdown();
        return code;
    }

    private static void Serve(Communicator world, TextWriter output)
    {
        void Answer(JsonObject answer)
        {
            output.WriteLine(answer.ToJsonString());
            output.Flush();
        }

        Answer(new JsonObject
        {
            ["peer"] = "loom",
            ["version"] = typeof(Tensor).Assembly.GetName().Version?.ToString() ?? "?",
            ["details"] = new JsonObject { ["ranks"] = world.Size },
        });
        BenchStep? step = null;
        var threads = new ThreadTimes();
        while (NextRequest(world) is { } line)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var request = JsonNode.Parse(line) as JsonObject ?? throw new InvalidDataException($"not a JSON object: {line}");
            switch (request["cmd"]?.GetValue<string>())
            {
                case "quit":
                    threads.Write(world.Rank, world.Size);
                    return;
                case "setup":
                    step = null;
                    // A case that cannot be built here (no dataset, say) cannot be built on any rank, so refusing it
                    // keeps the ranks in step; anything else is a real failure and ends the job (RunOrAbort).
                    try
                    {
                        Threads.Count = request["threads"]?.GetValue<int>() ?? 1;
                        step = DataParallelCases.Create(request["case"]!.GetValue<string>(), request["params"] as JsonObject ?? [], world);
                    }
                    catch (CaseUnavailableException e)
                    {
                        Answer(new JsonObject { ["ok"] = false, ["error"] = e.Message });
                        continue;
                    }
                    double last = 0;
                    for (int i = 0, n = Math.Max(1, request["warmup"]?.GetValue<int>() ?? 3); i < n; i++) last = Time(step);
                    step.Phases?.TakeMeans();
                    Answer(new JsonObject { ["ok"] = true, ["step_s"] = last });
                    break;
                case "run":
                    if (step is null) throw new InvalidOperationException("'run' before a successful 'setup'");
                    int iterations = Math.Max(1, request["iterations"]?.GetValue<int>() ?? 1);
                    if (world.Size > 1) world.Barrier();
                    threads.Begin();
                    var clock = Stopwatch.StartNew();
                    var times = new double[iterations];
                    for (int i = 0; i < iterations; i++) times[i] = Time(step);
                    threads.End(clock.Elapsed.TotalSeconds);
                    Array.Sort(times);
                    Answer(new JsonObject
                    {
                        ["ok"] = true, ["iterations"] = iterations, ["median_s"] = Comparison.RatioSummary.Quantile(times, 0.5),
                        ["min_s"] = times[0], ["total_s"] = clock.Elapsed.TotalSeconds, ["phases_s"] = step.Phases?.TakeMeans(),
                    });
                    break;
                default:
                    throw new InvalidDataException($"unknown command in {line}");
            }
        }
    }

    private static double Time(BenchStep step)
    {
        step.Prepare?.Invoke();
        long t0 = Stopwatch.GetTimestamp();
        step.Run();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    /// <summary>
    /// Rank 0's next stdin line, on every rank (null at end of input). The others wait in a sleeping poll: a blocking
    /// collective spins on its core, which would take it from whichever job the benchmark is timing meanwhile.
    /// </summary>
    private static string? NextRequest(Communicator world)
    {
        byte[] bytes = [];
        if (world.Rank == 0)
        {
            var line = Console.In.ReadLine();
            bytes = line is null ? [] : Encoding.UTF8.GetBytes(line);
            if (line is null) bytes = [0xff]; // not UTF-8 of any line: the end-of-input mark
        }
        int[] length = [bytes.Length];
        if (world.Rank != 0) length[0] = 0; // a sum: rank 0's length reaches everyone
        var announced = world.AllReduceAsync<int>(length);
        // A job waits here while the benchmark times the others. Polling every millisecond woke this rank a thousand
        // times a second on the cores of the job being timed, which has no core to spare for it (a 2 × 1 job was
        // preempted ~20 times a step while four others waited); after a moment of waiting, poll every 20 ms. A "run"
        // starts with an untimed barrier, so the late wake-up is not timed.
        long idleSince = Stopwatch.GetTimestamp();
        while (!announced.Test()) Thread.Sleep(Stopwatch.GetElapsedTime(idleSince).TotalMilliseconds < 50 ? 1 : 20);
        if (world.Rank != 0) bytes = new byte[length[0]];
        world.Broadcast<byte>(bytes);
        return bytes is [0xff] ? null : Encoding.UTF8.GetString(bytes);
    }
}

/// <summary>A case this job cannot set up (a dataset that is not installed…); the one-line reason goes to the benchmark.</summary>
internal sealed class CaseUnavailableException(string message) : Exception(message);
