using System.Diagnostics;
using System.Text;

namespace Loom.Autograd;

/// <summary>
/// A stopwatch profile of a training step, op by op: where the time of forward, backward and the optimiser goes.
/// While a profiler is active, every recorded op is charged the time since the previous event (a forward op is
/// charged when its backward node attaches, so the views and copies that record no node are charged to the next op
/// that does), every backward node the time of its <c>Apply</c> and the accumulation of what it returned, and
/// <see cref="Mark"/> charges a named phase (the optimiser step, say) by hand.
/// </summary>
/// <remarks>
/// One profiler at a time, on the thread that runs the step (the op threads' work is inside the op's time). Costs a
/// timestamp per op while active and one null test per op otherwise. Names are the ops' own ("matmul", "softmax"),
/// forward and backward kept apart ("softmax" and "softmax backward").
/// </remarks>
public sealed class OpProfiler : IDisposable
{
    private static OpProfiler? _active;
    private readonly Dictionary<string, (long Ticks, long Calls)> _entries = [];
    private long _last;

    private OpProfiler() => _last = Stopwatch.GetTimestamp();

    /// <summary>The profiler recording now, if any.</summary>
    internal static OpProfiler? Active => _active;

    /// <summary>Starts recording (until disposed); throws if one is already recording.</summary>
    public static OpProfiler Start()
    {
        var profiler = new OpProfiler();
        if (Interlocked.CompareExchange(ref _active, profiler, null) is not null)
            throw new InvalidOperationException("OpProfiler.Start: a profiler is already recording; dispose it first");
        return profiler;
    }

    /// <summary>Starts the clock again without charging anyone (after setup that should not count).</summary>
    public void Restart() => _last = Stopwatch.GetTimestamp();

    /// <summary>Charges the time since the previous event to <paramref name="name"/>.</summary>
    public void Mark(string name)
    {
        long now = Stopwatch.GetTimestamp();
        ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_entries, name, out _);
        slot = (slot.Ticks + now - _last, slot.Calls + 1);
        _last = Stopwatch.GetTimestamp(); // the dictionary's own time is nobody's
    }

    /// <summary>Each name's total seconds and number of events, largest first.</summary>
    public IReadOnlyList<(string Name, double Seconds, long Calls)> Entries =>
        _entries.Select(e => (e.Key, e.Value.Ticks / (double)Stopwatch.Frequency, e.Value.Calls)).OrderByDescending(e => e.Item2).ToList();

    /// <summary>A table of the entries: seconds per <paramref name="steps"/>, calls per step and fraction of the total.</summary>
    public string Format(int steps = 1)
    {
        var entries = Entries;
        double total = entries.Sum(e => e.Seconds);
        var text = new StringBuilder();
        text.AppendLine($"{"op",-36} {"ms/step",9} {"calls",6} {"share",7}");
        foreach (var (name, seconds, calls) in entries)
            text.AppendLine($"{name,-36} {seconds * 1e3 / steps,9:F3} {calls / (double)steps,6:F0} {seconds / total,7:P1}");
        text.AppendLine($"{"total",-36} {total * 1e3 / steps,9:F3}");
        return text.ToString();
    }

    public void Dispose() => Interlocked.CompareExchange(ref _active, null, this);
}
