using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Kernels;

namespace Loom.Bench;

/// <summary>
/// What this machine can do at most: FP32 FMA throughput and memory bandwidth, per thread count. Benchmarks express
/// their figures as fractions of these, which stay meaningful on a shared, noisy machine where absolute times do not.
/// Each figure is measured in this process at the thread count asked for, on first use, and kept: a 2-thread figure is
/// divided by the 2-thread peak of the same run, never by a 1-thread figure scaled up.
/// </summary>
public sealed class MachineLimits
{
    private const long ArrayBytes = 256L << 20;
    private static float _sink;
    private static int _intSink; // results land here so the JIT cannot drop the measured loops
    private static readonly MachineLimits Instance = new();
    private readonly Dictionary<int, double> _fma = [];
    private readonly Dictionary<int, double> _read = [];
    private readonly Dictionary<int, double> _copy = [];
    private readonly Dictionary<int, double> _int8 = [];

    private MachineLimits()
    {
    }

    /// <summary>The limits of this process (each figure measured on first use, a second or so, then kept).</summary>
    public static MachineLimits Measure() => Instance;

    /// <summary>Peak FP32 GFLOP/s at <paramref name="threads"/> threads (Vector512 FMA, 12 independent accumulators).</summary>
    public double FmaPeak(int threads) => Memoised(_fma, threads, MeasureFma);

    /// <summary>
    /// Probes the FMA peak at <paramref name="threads"/> again and keeps the better of the two: for when a figure came
    /// out above the peak, which means the first probe ran while the machine was busier.
    /// </summary>
    public double RemeasureFmaPeak(int threads)
    {
        double again = MeasureFma(threads);
        lock (_fma) return _fma[threads] = Math.Max(again, _fma.GetValueOrDefault(threads));
    }

    /// <summary>
    /// Peak int8 throughput, G op/s (one multiply-add = 2 ops), of <paramref name="path"/>'s multiply-accumulate
    /// sequence at <paramref name="threads"/> threads: 12 independent chains in registers, as the FMA probe.
    /// </summary>
    public double Int8Peak(int threads, Int8GemmPath path) =>
        Memoised(_int8, threads * 16 + (int)path, _ => MeasureInt8(threads, path));

    private static double MeasureInt8(int threads, Int8GemmPath path)
    {
        const long iterations = 500_000;
        int macsPerIteration = path switch
        {
            Int8GemmPath.AvxVnni or Int8GemmPath.Avx2 => 12 * 32,
            Int8GemmPath.Avx512BW => 12 * 64,
            _ => throw new ArgumentOutOfRangeException(nameof(path), path, "int8 peak: no probe for this path"),
        };
        Func<long, int> chains = path switch
        {
            Int8GemmPath.AvxVnni => VnniChains,
            Int8GemmPath.Avx2 => Avx2Int8Chains,
            _ => Avx512BWInt8Chains,
        };
        chains(1000); // JIT warm-up
        double best = 0;
        for (int run = 0; run < 30; run++)
        {
            double seconds = RunOnThreads(threads, _ => Volatile.Write(ref _intSink, chains(iterations)));
            best = Math.Max(best, threads * iterations * macsPerIteration * 2.0 / seconds / 1e9);
        }
        return best;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int VnniChains(long iterations)
    {
        var x = Vector256.Create((byte)3);
        var w = Vector256.Create((sbyte)-2);
        Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector256<int> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (long i = 0; i < iterations; i++)
        {
            c0 = AvxVnni.MultiplyWideningAndAdd(c0, x, w); c1 = AvxVnni.MultiplyWideningAndAdd(c1, x, w);
            c2 = AvxVnni.MultiplyWideningAndAdd(c2, x, w); c3 = AvxVnni.MultiplyWideningAndAdd(c3, x, w);
            c4 = AvxVnni.MultiplyWideningAndAdd(c4, x, w); c5 = AvxVnni.MultiplyWideningAndAdd(c5, x, w);
            c6 = AvxVnni.MultiplyWideningAndAdd(c6, x, w); c7 = AvxVnni.MultiplyWideningAndAdd(c7, x, w);
            c8 = AvxVnni.MultiplyWideningAndAdd(c8, x, w); c9 = AvxVnni.MultiplyWideningAndAdd(c9, x, w);
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, w); c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, w);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Avx512BWInt8Chains(long iterations)
    {
        // A distinct weight per chain (equal operands would be folded into one product) and x changing every round
        // (a loop-invariant product would be hoisted): 12 independent multiply-accumulate sequences per round.
        var x = Vector512.Create((byte)3);
        var ones = Vector512.Create((short)1);
        var w0 = Vector512.Create((sbyte)(0 + 1)); var w1 = Vector512.Create((sbyte)(1 + 1)); var w2 = Vector512.Create((sbyte)(2 + 1)); var w3 = Vector512.Create((sbyte)(3 + 1));
        var w4 = Vector512.Create((sbyte)(4 + 1)); var w5 = Vector512.Create((sbyte)(5 + 1)); var w6 = Vector512.Create((sbyte)(6 + 1)); var w7 = Vector512.Create((sbyte)(7 + 1));
        var w8 = Vector512.Create((sbyte)(8 + 1)); var w9 = Vector512.Create((sbyte)(9 + 1)); var w10 = Vector512.Create((sbyte)(10 + 1)); var w11 = Vector512.Create((sbyte)(11 + 1));
        Vector512<int> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<int> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (long i = 0; i < iterations; i++)
        {
            x += Vector512<byte>.One;
            c0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w0), ones);
            c1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w1), ones);
            c2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w2), ones);
            c3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w3), ones);
            c4 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w4), ones);
            c5 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w5), ones);
            c6 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w6), ones);
            c7 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w7), ones);
            c8 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w8), ones);
            c9 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w9), ones);
            c10 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w10), ones);
            c11 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w11), ones);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Avx2Int8Chains(long iterations)
    {
        // A distinct weight per chain (equal operands would be folded into one product) and x changing every round
        // (a loop-invariant product would be hoisted): 12 independent multiply-accumulate sequences per round.
        var x = Vector256.Create((byte)3);
        var ones = Vector256.Create((short)1);
        var w0 = Vector256.Create((sbyte)(0 + 1)); var w1 = Vector256.Create((sbyte)(1 + 1)); var w2 = Vector256.Create((sbyte)(2 + 1)); var w3 = Vector256.Create((sbyte)(3 + 1));
        var w4 = Vector256.Create((sbyte)(4 + 1)); var w5 = Vector256.Create((sbyte)(5 + 1)); var w6 = Vector256.Create((sbyte)(6 + 1)); var w7 = Vector256.Create((sbyte)(7 + 1));
        var w8 = Vector256.Create((sbyte)(8 + 1)); var w9 = Vector256.Create((sbyte)(9 + 1)); var w10 = Vector256.Create((sbyte)(10 + 1)); var w11 = Vector256.Create((sbyte)(11 + 1));
        Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector256<int> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (long i = 0; i < iterations; i++)
        {
            x += Vector256<byte>.One;
            c0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w0), ones);
            c1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w1), ones);
            c2 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w2), ones);
            c3 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w3), ones);
            c4 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w4), ones);
            c5 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w5), ones);
            c6 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w6), ones);
            c7 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w7), ones);
            c8 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w8), ones);
            c9 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w9), ones);
            c10 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w10), ones);
            c11 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w11), ones);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    /// <summary>Memory read bandwidth, GB/s, at <paramref name="threads"/> threads (arrays of 256 MiB, well past L3).</summary>
    public double ReadBandwidth(int threads) => Memoised(_read, threads, t => MeasureMemory(t, copy: false));

    /// <summary>Memory copy bandwidth (bytes read + written), GB/s, at <paramref name="threads"/> threads.</summary>
    public double CopyBandwidth(int threads) => Memoised(_copy, threads, t => MeasureMemory(t, copy: true));

    private static double Memoised(Dictionary<int, double> figures, int threads, Func<int, double> measure)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        lock (figures)
        {
            if (!figures.TryGetValue(threads, out var value)) figures[threads] = value = measure(threads);
            return value;
        }
    }

    private static double MeasureMemory(int threads, bool copy)
    {
        var source = GC.AllocateUninitializedArray<float>((int)(ArrayBytes / sizeof(float)));
        var target = copy ? GC.AllocateUninitializedArray<float>(source.Length) : [];
        source.AsSpan().Fill(1f); // touch every page before timing
        target.AsSpan().Clear();
        return copy
            ? MeasureMemory(threads, source.Length, (s, e) => source.AsSpan(s, e - s).CopyTo(target.AsSpan(s, e - s))) * 2 * ArrayBytes / 1e9
            : MeasureMemory(threads, source.Length, (s, e) => Volatile.Write(ref _sink, ReadSum(source.AsSpan(s, e - s)))) * ArrayBytes / 1e9;
    }

    /// <summary>
    /// Best of many short runs of every thread doing independent FMA chains at once. Short, because benchmarks report
    /// medians of short steps, which on a shared machine fall between other processes' time slices; a long probe run
    /// always contains some of them and understates the peak those steps reach (SGEMM came out at 1.2–1.8 "of peak").
    /// </summary>
    private static double MeasureFma(int threads)
    {
        const long iterations = 1_000_000; // 1M × 12 × 16 lanes × 2 flops ≈ 0.38 GFLOP per thread, ~3 ms
        FmaChains(1000); // JIT warm-up
        double best = 0;
        for (int run = 0; run < 40; run++)
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

    /// <summary>
    /// Runs body(t) on `threads` dedicated threads released together; returns the seconds from the first start to the
    /// last end, as the workers' own clocks saw them (the releasing thread may wake late, after they have begun).
    /// </summary>
    private static double RunOnThreads(int threads, Action<int> body)
    {
        using var start = new Barrier(threads);
        var workers = new Thread[threads];
        var begins = new long[threads];
        var ends = new long[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                begins[id] = Stopwatch.GetTimestamp();
                body(id);
                ends[id] = Stopwatch.GetTimestamp();
            }) { IsBackground = true };
            workers[t].Start();
        }
        foreach (var w in workers) w.Join();
        return (ends.Max() - begins.Min()) / (double)Stopwatch.Frequency;
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
