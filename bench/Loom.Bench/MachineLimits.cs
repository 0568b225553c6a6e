using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Bench;

/// <summary>
/// What this machine can do at most: FP32 FMA throughput and memory bandwidth, per thread count. Benchmarks express
/// their figures as fractions of these, which stay meaningful on a shared, noisy machine where absolute times do not.
/// Measured once per process (<see cref="Measure"/> is memoised).
/// </summary>
/// <param name="FmaGflops">Peak FP32 GFLOP/s by thread count (Vector512 FMA, 12 independent accumulators).</param>
/// <param name="ReadGBps">Memory read bandwidth, GB/s, by thread count (arrays of 256 MiB, well past L3).</param>
/// <param name="CopyGBps">Memory copy bandwidth (bytes read + written), GB/s, by thread count.</param>
public sealed record MachineLimits(
    IReadOnlyDictionary<int, double> FmaGflops,
    IReadOnlyDictionary<int, double> ReadGBps,
    IReadOnlyDictionary<int, double> CopyGBps)
{
    private const long ArrayBytes = 256L << 20;
    private static float _sink; // results land here so the JIT cannot drop the measured loops
    private static readonly Lazy<MachineLimits> Cached = new(() => MeasureNow(DefaultThreadCounts()));

    /// <summary>The limits at 1 thread and at every core, measured on first call (a few seconds) and cached.</summary>
    public static MachineLimits Measure() => Cached.Value;

    /// <summary>FMA peak at <paramref name="threads"/> threads; unmeasured counts scale the 1-thread figure.</summary>
    public double FmaPeak(int threads) => Lookup(FmaGflops, threads);

    public double ReadBandwidth(int threads) => Lookup(ReadGBps, threads);

    public double CopyBandwidth(int threads) => Lookup(CopyGBps, threads);

    private static double Lookup(IReadOnlyDictionary<int, double> figures, int threads) =>
        figures.TryGetValue(threads, out var v) ? v : figures[1] * Math.Min(threads, Environment.ProcessorCount);

    private static int[] DefaultThreadCounts() => Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1];

    private static MachineLimits MeasureNow(int[] threadCounts)
    {
        var fma = new Dictionary<int, double>();
        var read = new Dictionary<int, double>();
        var copy = new Dictionary<int, double>();
        foreach (int t in threadCounts) fma[t] = MeasureFma(t);
        var source = GC.AllocateUninitializedArray<float>((int)(ArrayBytes / sizeof(float)));
        var target = GC.AllocateUninitializedArray<float>(source.Length);
        source.AsSpan().Fill(1f); // touch every page before timing
        target.AsSpan().Clear();
        foreach (int t in threadCounts)
        {
            read[t] = MeasureMemory(t, source.Length, (s, e) => Volatile.Write(ref _sink, ReadSum(source.AsSpan(s, e - s)))) * ArrayBytes / 1e9;
            copy[t] = MeasureMemory(t, source.Length, (s, e) => source.AsSpan(s, e - s).CopyTo(target.AsSpan(s, e - s))) * 2 * ArrayBytes / 1e9;
        }
        return new MachineLimits(fma, read, copy);
    }

    /// <summary>Best of several runs of every thread doing independent FMA chains at once.</summary>
    private static double MeasureFma(int threads)
    {
        const long iterations = 20_000_000; // 20M × 12 × 16 lanes × 2 flops ≈ 7.7 GFLOP per thread, ~50 ms
        FmaChains(1000); // JIT warm-up
        double best = 0;
        for (int run = 0; run < 5; run++)
        {
            double seconds = RunOnThreads(threads, _ => Volatile.Write(ref _sink, FmaChains(iterations)));
            best = Math.Max(best, threads * iterations * 12.0 * 16 * 2 / seconds / 1e9);
        }
        return best;
    }

    /// <summary>Bytes-per-second factor: runs over [0, length) split across threads; returns 1/seconds of the best run.</summary>
    private static double MeasureMemory(int threads, int length, Action<int, int> body)
    {
        double best = double.MaxValue;
        for (int run = 0; run < 4; run++)
        {
            double seconds = RunOnThreads(threads, t =>
            {
                long chunk = (length + threads - 1) / threads;
                int start = (int)Math.Min(length, t * chunk), end = (int)Math.Min(length, start + chunk);
                body(start, end);
            });
            best = Math.Min(best, seconds);
        }
        return 1 / best;
    }

    /// <summary>Runs body(t) on `threads` dedicated threads released together; returns the wall time of the slowest.</summary>
    private static double RunOnThreads(int threads, Action<int> body)
    {
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() => { start.SignalAndWait(); body(id); }) { IsBackground = true };
            workers[t].Start();
        }
        start.SignalAndWait();
        long t0 = Stopwatch.GetTimestamp();
        foreach (var w in workers) w.Join();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    // 12 independent chains: FMA latency 4 × 2 pipes (or 1 zmm/cycle) needs at least 8 in flight to saturate.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float FmaChains(long iterations)
    {
        var m = Vector512.Create(0.999f);
        var a = Vector512.Create(0.001f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        Vector512<float> c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a); c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a); c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
        }
        var sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
        return Vector512.Sum(sum); // returned so the chains are not dead code
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float ReadSum(ReadOnlySpan<float> data)
    {
        // Four accumulators so the adds are not the bottleneck; the loads are.
        var s0 = Vector512<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
        int i = 0;
        ref float start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(data);
        for (; i <= data.Length - 64; i += 64)
        {
            s0 += Vector512.LoadUnsafe(ref start, (nuint)i);
            s1 += Vector512.LoadUnsafe(ref start, (nuint)(i + 16));
            s2 += Vector512.LoadUnsafe(ref start, (nuint)(i + 32));
            s3 += Vector512.LoadUnsafe(ref start, (nuint)(i + 48));
        }
        float tail = 0;
        for (; i < data.Length; i++) tail += data[i];
        return Vector512.Sum(s0 + s1 + s2 + s3) + tail;
    }
}
