using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Loom.Train;

/// <summary>
/// Where a training loop's time goes, for diagnosing data-parallel scaling (Note [Distributed], session 25): with
/// <c>LOOM_PROFILE_STEP=1</c> in the environment, each process prints to stderr at the end of <see cref="Trainer.Fit"/>
/// the wall time, the training thread's own CPU time and its allocations per phase of the step (batch fetch, forward,
/// loss, backward, metrics, gradient sync, optimiser, callbacks, epoch end), its garbage collections, and the CPU time
/// of each of its threads. Wall time well above CPU time means the thread waited or was preempted. Off, each call is
/// one test of a static readonly field, which the JIT folds away.
/// </summary>
internal static partial class StepProfile
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("LOOM_PROFILE_STEP") == "1";

    public enum Phase { Fetch, Forward, Loss, Backward, Metrics, Sync, Optimizer, Callbacks, EpochEnd, EpochCallbacks, Count }

    // With LOOM_PROFILE_TIMELINE=folder as well, each step's phase ends (Stopwatch timestamps: CLOCK_MONOTONIC on
    // Linux, comparable between the ranks of one machine) and gen0 count go to folder/timeline-rank{r}-{pid}.tsv, to
    // see which rank reaches the gradient all-reduce late, by how much and after what.
    private static readonly string? TimelineFolder = Enabled ? Environment.GetEnvironmentVariable("LOOM_PROFILE_TIMELINE") : null;
    private const int StepPhases = (int)Phase.Callbacks + 1;
    private static readonly List<long[]> Timeline = [];
    private static long[] _row = new long[StepPhases + 2];

    private static readonly long[] Wall = new long[(int)Phase.Count];
    private static readonly long[] Cpu = new long[(int)Phase.Count];
    private static readonly long[] Alloc = new long[(int)Phase.Count];
    private static long _allocMark;
    private static long _wallMark, _cpuMark;
    private static long _steps;
    private static long _start, _cpuStart;
    private static int _gc0, _gc1, _gc2;
    private static TimeSpan _pause, _procCpu;
    private static long _allocated;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    private static long ThreadCpuNs()
    {
        ClockGetTime(3, out var t); // CLOCK_THREAD_CPUTIME_ID
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }

    private static AllocationTally? _tally;

    private static int _prefetch;

    /// <param name="prefetch">The training loader's <see cref="DataLoader{T}.Prefetch"/> (0: batches loaded on the training thread).</param>
    public static void Begin(int prefetch)
    {
        if (!Enabled) return;
        _prefetch = prefetch;
        _tally ??= new AllocationTally();
        _tally.Clear();
        Array.Clear(Wall);
        Array.Clear(Cpu);
        Array.Clear(Alloc);
        _steps = 0;
        Timeline.Clear();
        _start = Stopwatch.GetTimestamp();
        _cpuStart = ThreadCpuNs();
        (_gc0, _gc1, _gc2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        _pause = GC.GetTotalPauseDuration();
        _allocated = GC.GetTotalAllocatedBytes();
        _procCpu = Process.GetCurrentProcess().TotalProcessorTime;
        Mark();
    }

    public static void Mark()
    {
        if (!Enabled) return;
        _wallMark = Stopwatch.GetTimestamp();
        _cpuMark = ThreadCpuNs();
        _allocMark = GC.GetAllocatedBytesForCurrentThread();
    }

    public static void End(Phase phase)
    {
        if (!Enabled) return;
        long wall = Stopwatch.GetTimestamp(), cpu = ThreadCpuNs();
        Wall[(int)phase] += wall - _wallMark;
        Cpu[(int)phase] += cpu - _cpuMark;
        (_wallMark, _cpuMark) = (wall, cpu);
        long alloc = GC.GetAllocatedBytesForCurrentThread();
        Alloc[(int)phase] += alloc - _allocMark;
        _allocMark = alloc;
        if (TimelineFolder is not null && phase < Phase.EpochEnd)
        {
            _row[(int)phase] = wall;
            if (phase == Phase.Callbacks)
            {
                _row[StepPhases] = GC.CollectionCount(0);
                _row[StepPhases + 1] = GC.CollectionCount(1);
                Timeline.Add(_row);
                _row = new long[StepPhases + 2];
            }
        }
        if (phase == Phase.Callbacks) _steps++;
    }

    public static void Report()
    {
        if (!Enabled) return;
        string rank = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK") ?? "-";
        var w = Console.Error;
        double totalWall = Stopwatch.GetElapsedTime(_start).TotalSeconds, mainCpu = (ThreadCpuNs() - _cpuStart) / 1e9;
        var proc = Process.GetCurrentProcess();
        w.WriteLine($"[profile rank {rank}] fit wall {totalWall:F2} s, main-thread cpu {mainCpu:F2} s, process cpu {(proc.TotalProcessorTime - _procCpu).TotalSeconds:F2} s, steps {_steps}");
        for (int i = 0; i < (int)Phase.Count; i++)
            w.WriteLine($"[profile rank {rank}]   {(Phase)i,-15} wall {Wall[i] / (double)Stopwatch.Frequency,8:F3} s  cpu {Cpu[i] / 1e9,8:F3} s  alloc {Alloc[i] / 1e6,8:F1} MB");
        w.WriteLine($"[profile rank {rank}] gc gen0 {GC.CollectionCount(0) - _gc0} gen1 {GC.CollectionCount(1) - _gc1} gen2 {GC.CollectionCount(2) - _gc2}, pause {(GC.GetTotalPauseDuration() - _pause).TotalSeconds:F3} s, allocated {(GC.GetTotalAllocatedBytes() - _allocated) / 1e6:F0} MB, threads {Process.GetCurrentProcess().Threads.Count}, server {System.Runtime.GCSettings.IsServerGC}");
        // Where the process may run (a rank bound by `loom launch` sees only its own cores) and whether its loader had a worker.
        string cpus = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "?" : "?";
        w.WriteLine($"[profile rank {rank}] cores {Environment.ProcessorCount} (cpus {cpus}), loader prefetch {_prefetch}");
        _tally?.Report(w, rank);
        if (TimelineFolder is not null)
        {
            Directory.CreateDirectory(TimelineFolder);
            var lines = Timeline.Select(r => string.Join('\t', r.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))));
            string header = string.Join('\t', Enumerable.Range(0, StepPhases).Select(i => ((Phase)i).ToString().ToLowerInvariant()).Append("gen0").Append("gen1"));
            File.WriteAllLines(Path.Combine(TimelineFolder, $"timeline-rank{rank}-{Environment.ProcessId}.tsv"), [$"# ticks per second {Stopwatch.Frequency}", header, .. lines]);
        }
        try
        {
            foreach (var task in Directory.GetDirectories("/proc/self/task"))
            {
                string comm = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                double utime = long.Parse(fields[11]) / 100.0, stime = long.Parse(fields[12]) / 100.0;
                w.WriteLine($"[profile rank {rank}]   thread {Path.GetFileName(task),7} {comm,-16} user {utime,7:F2} s sys {stime,6:F2} s");
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// The runtime's allocation sampling (an AllocationTick event about every 100 KB a thread allocates, naming the type
    /// whose allocation crossed the mark): which types the step allocates, in proportion.
    /// </summary>
    private sealed class AllocationTally : System.Diagnostics.Tracing.EventListener
    {
        private readonly Dictionary<string, (long Bytes, int Ticks)> _byType = [];

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
            int nameAt = e.PayloadNames!.IndexOf("TypeName"), amountAt = e.PayloadNames.IndexOf("AllocationAmount64");
            string type = nameAt >= 0 ? e.Payload[nameAt] as string ?? "?" : "?";
            long amount = amountAt >= 0 ? Convert.ToInt64(e.Payload[amountAt]) : 100_000;
            lock (_byType)
            {
                _byType.TryGetValue(type, out var t);
                _byType[type] = (t.Bytes + amount, t.Ticks + 1);
            }
        }

        public void Clear()
        {
            lock (_byType) _byType.Clear();
        }

        public void Report(TextWriter w, string rank)
        {
            lock (_byType)
                foreach (var (type, (bytes, ticks)) in _byType.OrderByDescending(kv => kv.Value.Bytes).Take(40))
                    w.WriteLine($"[profile rank {rank}]   alloc {bytes / 1e6,8:F1} MB {ticks,6} ticks  {type}");
        }
    }
}
