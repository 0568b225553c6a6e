using System.Globalization;

namespace Loom.Bench.Distributed;

/// <summary>
/// Where a rank's cores go while it is timed, thread by thread (Linux): each thread's CPU time, the time it was
/// runnable but waiting for a core (scheduler run-queue delay), and its involuntary context switches, summed over the
/// timed blocks only. With <c>LOOM_BENCH_THREAD_TIMES=folder</c> each rank of a benchmark job writes its table there
/// when the job ends.
/// </summary>
internal sealed class ThreadTimes
{
    private static readonly string? Folder = Environment.GetEnvironmentVariable("LOOM_BENCH_THREAD_TIMES");
    private readonly Dictionary<string, (string Name, long RunNs, long WaitNs, long Slices, long Involuntary)> _sum = [];
    private Dictionary<string, (string Name, long RunNs, long WaitNs, long Slices, long Involuntary)>? _start;
    private double _wallSeconds;
    private int _blocks;

    public static bool Enabled => Folder is not null && OperatingSystem.IsLinux();

    public void Begin()
    {
        if (Enabled) _start = Read();
    }

    public void End(double wallSeconds)
    {
        if (!Enabled || _start is null) return;
        foreach (var (tid, now) in Read())
        {
            var before = _start.GetValueOrDefault(tid);
            _sum.TryGetValue(tid, out var sum);
            _sum[tid] = (now.Name, sum.RunNs + now.RunNs - before.RunNs, sum.WaitNs + now.WaitNs - before.WaitNs,
                sum.Slices + now.Slices - before.Slices, sum.Involuntary + now.Involuntary - before.Involuntary);
        }
        _wallSeconds += wallSeconds;
        _blocks++;
    }

    public void Write(int rank, int size)
    {
        if (!Enabled || _blocks == 0) return;
        Directory.CreateDirectory(Folder!);
        var lines = new List<string>
        {
            $"# ranks {size} rank {rank} pid {Environment.ProcessId} blocks {_blocks} wall_ms {_wallSeconds * 1e3:F1} variant {Environment.GetEnvironmentVariable("LOOM_BENCH_VARIANT") ?? "-"}",
            "tid\tname\trun_ms\twait_ms\tslices\tinvoluntary",
        };
        foreach (var (tid, t) in _sum.OrderByDescending(kv => kv.Value.RunNs))
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{tid}\t{t.Name}\t{t.RunNs / 1e6:F1}\t{t.WaitNs / 1e6:F1}\t{t.Slices}\t{t.Involuntary}"));
        File.WriteAllLines(Path.Combine(Folder!, $"threads-np{size}-rank{rank}-{Environment.ProcessId}.tsv"), lines);
    }

    private static Dictionary<string, (string Name, long RunNs, long WaitNs, long Slices, long Involuntary)> Read()
    {
        var result = new Dictionary<string, (string, long, long, long, long)>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                string name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                var sched = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                long involuntary = 0;
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        involuntary = long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                result[Path.GetFileName(task)] = (name, long.Parse(sched[0], CultureInfo.InvariantCulture), long.Parse(sched[1], CultureInfo.InvariantCulture),
                    long.Parse(sched[2], CultureInfo.InvariantCulture), involuntary);
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }
        return result;
    }
}
