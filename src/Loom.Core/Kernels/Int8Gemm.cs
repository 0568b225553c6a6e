using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

/// <summary>
/// Integer matrix multiply for quantised inference: C = (A − zeroA) · Wᵀ with u8 activations A [m, k] (row-major),
/// int8 weights W [n, k] packed once (<see cref="Int8PackedWeights"/>), int32 accumulation, and the result either
/// as int32, dequantised to float (per-tensor activation scale × per-output-channel weight scale, plus a bias), or
/// requantised to u8 for the next quantised layer. The zero point is applied after the product through W's row sums:
/// Σ (a − z)·w = Σ a·w − z·Σ w.
/// </summary>
/// <remarks>
/// Operand ranges: activations in [0, <see cref="ActivationMax"/> = 127] (7 bits, PyTorch's "reduce_range" for
/// x86), weights in [−127, 127]. The reason is <c>vpmaddubsw</c>, which sums two u8·s8 products into a saturating
/// int16: with 8-bit activations 2·255·127 = 64770 would saturate, with these ranges the largest pair is 2·127·127 =
/// 32258 &lt; 32767, so the AVX2 and AVX-512BW paths are exact and every path gives the same int32 (tested).
/// Paths, chosen at run time: AVX-VNNI (<c>vpdpbusd</c>), else AVX-512BW, else AVX2, else scalar; <see cref="ForcedPath"/>
/// forces one, as <see cref="Gemm.ForcedPath"/> does for float. Threads split the output columns (pairs of 16-column
/// panels) over <see cref="Threads.Count"/> through the same parallel helper as the float GEMM.
/// </remarks>
public static unsafe class Int8Gemm
{
    /// <summary>Largest activation value: u7, so that the vpmaddubsw paths cannot saturate.</summary>
    public const int ActivationMax = 127;

    /// <summary>Largest weight magnitude (symmetric int8 without −128).</summary>
    public const int WeightMax = 127;

    /// <summary>Products below this many operations (2·m·n·k) run on the calling thread: a dispatch costs more.</summary>
    internal const long ParallelThresholdOps = 1L << 21;

    /// <summary>Row blocks of a split product are multiples of this: whole tiles for every path (MR is 3 or 4).</summary>
    private const int RowBlockUnit = 12;

    /// <summary>
    /// Forces one micro-kernel regardless of what the CPU offers (tests, benchmarks). Forcing a path the CPU lacks
    /// makes the product throw <see cref="PlatformNotSupportedException"/>; check <see cref="IsSupported"/> first.
    /// </summary>
    public static Int8GemmPath ForcedPath { get; set; } = Int8GemmPath.Auto;

    /// <summary>Whether this CPU (and runtime) can run <paramref name="path"/>.</summary>
    public static bool IsSupported(Int8GemmPath path) => path switch
    {
        Int8GemmPath.Auto or Int8GemmPath.Scalar => true,
        Int8GemmPath.AvxVnni => Vector256.IsHardwareAccelerated && AvxVnni.IsSupported,
        Int8GemmPath.Avx512BW => Vector512.IsHardwareAccelerated && Avx512BW.IsSupported,
        Int8GemmPath.Avx2 => Vector256.IsHardwareAccelerated && Avx2.IsSupported,
        _ => false,
    };

    /// <summary>The path the product runs now: <see cref="ForcedPath"/>, or the first the CPU supports in the order of <see cref="Int8GemmPath"/>.</summary>
    public static Int8GemmPath ActivePath
    {
        get
        {
            var forced = ForcedPath;
            if (forced == Int8GemmPath.Auto)
            {
                foreach (var path in (ReadOnlySpan<Int8GemmPath>)[Int8GemmPath.AvxVnni, Int8GemmPath.Avx512BW, Int8GemmPath.Avx2])
                    if (IsSupported(path)) return path;
                return Int8GemmPath.Scalar;
            }
            if (!IsSupported(forced))
                throw new PlatformNotSupportedException($"int8 gemm: forced path {forced} is not supported by this CPU");
            return forced;
        }
    }

    /// <summary>k rounded up to a multiple of 4, the least row stride of the activation buffer (the kernels read four bytes at a time).</summary>
    public static int PaddedDepth(int k) => (k + 3) & ~3;

    /// <summary>C [m, n] = (A − zeroA) · Wᵀ as int32. A rows are <paramref name="lda"/> ≥ <see cref="Int8PackedWeights.PaddedDepth"/> bytes apart.</summary>
    public static void Multiply(int m, ReadOnlySpan<byte> a, int lda, int zeroA, Int8PackedWeights w, Span<int> c, int ldc)
    {
        Validate("int8 gemm", m, a, lda, zeroA, w, c.Length, ldc, default, default, needScales: false, checkActivations: true);
        fixed (int* pc = c)
            Run(new Int8Problem { Output = Int8Output.Int32, CInt = pc, Ldc = ldc, ZeroA = zeroA }, m, a, lda, w);
    }

    /// <summary>
    /// C [m, n] = scaleA · scaleW[j] · ((A − zeroA) · Wᵀ)[i, j] + bias[j] as float: the dequantising epilogue of a
    /// quantised linear layer. <paramref name="bias"/> may be empty.
    /// </summary>
    public static void MultiplyDequantize(int m, ReadOnlySpan<byte> a, int lda, float scaleA, int zeroA, Int8PackedWeights w,
        ReadOnlySpan<float> scaleW, ReadOnlySpan<float> bias, Span<float> c, int ldc) =>
        MultiplyDequantize(m, a, lda, scaleA, zeroA, w, scaleW, bias, c, ldc, checkActivations: true);

    /// <param name="checkActivations">False when the caller has already checked every activation byte against
    /// <see cref="ActivationMax"/> (the convolution checks its image once instead of every im2col row).</param>
    internal static void MultiplyDequantize(int m, ReadOnlySpan<byte> a, int lda, float scaleA, int zeroA, Int8PackedWeights w,
        ReadOnlySpan<float> scaleW, ReadOnlySpan<float> bias, Span<float> c, int ldc, bool checkActivations)
    {
        Validate("int8 gemm", m, a, lda, zeroA, w, c.Length, ldc, scaleW, bias, needScales: true, checkActivations);
        fixed (float* pc = c, psw = scaleW, pb = bias)
            Run(new Int8Problem
            {
                Output = Int8Output.Float, CFloat = pc, Ldc = ldc, ZeroA = zeroA, ScaleA = scaleA, ScaleW = psw,
                Bias = bias.IsEmpty ? null : pb,
            }, m, a, lda, w);
    }

    /// <summary>
    /// As <see cref="MultiplyDequantize(int, ReadOnlySpan{byte}, int, float, int, Int8PackedWeights, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int)"/>, then requantised for the next quantised layer:
    /// C = clamp(round(value / outScale) + outZero, 0, <see cref="ActivationMax"/>) (rounding half to even).
    /// </summary>
    public static void MultiplyRequantize(int m, ReadOnlySpan<byte> a, int lda, float scaleA, int zeroA, Int8PackedWeights w,
        ReadOnlySpan<float> scaleW, ReadOnlySpan<float> bias, float outScale, int outZero, Span<byte> c, int ldc) =>
        MultiplyRequantize(m, a, lda, scaleA, zeroA, w, scaleW, bias, outScale, outZero, c, ldc, checkActivations: true);

    /// <inheritdoc cref="MultiplyDequantize(int, ReadOnlySpan{byte}, int, float, int, Int8PackedWeights, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, bool)"/>
    internal static void MultiplyRequantize(int m, ReadOnlySpan<byte> a, int lda, float scaleA, int zeroA, Int8PackedWeights w,
        ReadOnlySpan<float> scaleW, ReadOnlySpan<float> bias, float outScale, int outZero, Span<byte> c, int ldc, bool checkActivations)
    {
        Validate("int8 gemm", m, a, lda, zeroA, w, c.Length, ldc, scaleW, bias, needScales: true, checkActivations);
        if (!(outScale > 0) || !float.IsFinite(outScale))
            throw new ArgumentOutOfRangeException(nameof(outScale), outScale, "int8 gemm: output scale must be positive and finite");
        if (outZero is < 0 or > ActivationMax)
            throw new ArgumentOutOfRangeException(nameof(outZero), outZero, $"int8 gemm: output zero point must lie in [0, {ActivationMax}]");
        fixed (byte* pc = c)
        fixed (float* psw = scaleW, pb = bias)
            Run(new Int8Problem
            {
                Output = Int8Output.UInt8, CByte = pc, Ldc = ldc, ZeroA = zeroA, ScaleA = scaleA, ScaleW = psw,
                Bias = bias.IsEmpty ? null : pb, InvOutScale = 1f / outScale, OutZero = outZero,
            }, m, a, lda, w);
    }

    private static void Run(Int8Problem p, int m, ReadOnlySpan<byte> a, int lda, Int8PackedWeights w)
    {
        if (m == 0) return;
        var path = ActivePath;
        fixed (byte* pa = a)
        fixed (sbyte* pw = w.Data)
        fixed (int* rs = w.RowSums)
        {
            p.M = m; p.N = w.N; p.A = pa; p.Lda = lda; p.B = pw; p.RowSums = rs;
            p.Steps = w.PaddedDepth / 4; p.PanelBytes = w.PanelBytes;
            int pairs = w.PaddedN / (2 * Int8PackedWeights.PanelWidth);
            long ops = 2L * m * w.N * w.K;
            bool parallel = ops >= ParallelThresholdOps;
            // Fewer column pairs than threads (a convolution with 32 output channels has one pair, but tens of
            // thousands of rows): split the rows too, in blocks that are whole tiles for every path (MR 3 or 4).
            int blocks = parallel && pairs < Threads.Count ? Math.Min((Threads.Count + pairs - 1) / pairs, (m + RowBlockUnit - 1) / RowBlockUnit) : 1;
            p.RowBlock = (m + blocks - 1) / blocks;
            p.RowBlock = (p.RowBlock + RowBlockUnit - 1) / RowBlockUnit * RowBlockUnit;
            p.RowBlocks = (m + p.RowBlock - 1) / p.RowBlock;
            int tasks = pairs * p.RowBlocks, grain = parallel ? 1 : int.MaxValue;
            switch (path)
            {
                case Int8GemmPath.AvxVnni: Driver<Int8Kernel256<Int8DotAvxVnni>>.Run(p, tasks, grain); break;
                case Int8GemmPath.Avx512BW: Driver<Int8KernelAvx512BW>.Run(p, tasks, grain); break;
                case Int8GemmPath.Avx2: Driver<Int8Kernel256<Int8DotAvx2>>.Run(p, tasks, grain); break;
                default: Driver<Int8KernelScalar>.Run(p, tasks, grain); break;
            }
        }
    }

    private static class Driver<TKernel> where TKernel : IInt8MicroKernel
    {
        public static void Run(in Int8Problem p, int tasks, int grain) =>
            ParallelHelper.For(tasks, grain, p, static (q, first, end) => RunTasks(q, first, end));

        /// <summary>
        /// Tasks [first, end), each one column pair × one block of rows, pair-major so that a thread's tasks share the
        /// pair's weight panels (32 × k bytes), which stay in L1/L2 while the row tiles of A stream past them; rows
        /// left below MR go through the one-row kernel.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void RunTasks(in Int8Problem p, int first, int end)
        {
            int mr = TKernel.MR;
            int* tile = stackalloc int[4 * 2 * Int8PackedWeights.PanelWidth];
            for (int task = first; task < end; task++)
            {
                int pair = task / p.RowBlocks, rowStart = task % p.RowBlocks * p.RowBlock, rowEnd = Math.Min(p.M, rowStart + p.RowBlock);
                sbyte* b = p.B + 2 * pair * p.PanelBytes;
                int j0 = pair * 2 * Int8PackedWeights.PanelWidth;
                int cols = Math.Min(2 * Int8PackedWeights.PanelWidth, p.N - j0);
                int i = rowStart;
                for (; i + mr <= rowEnd; i += mr)
                {
                    TKernel.Run(p.Steps, p.A + i * p.Lda, p.Lda, b, p.PanelBytes, tile);
                    for (int r = 0; r < mr; r++) Store(p, tile + r * 32, i + r, j0, cols);
                }
                for (; i < rowEnd; i++)
                {
                    TKernel.RunRow(p.Steps, p.A + i * p.Lda, b, p.PanelBytes, tile);
                    Store(p, tile, i, j0, cols);
                }
            }
        }
    }

    /// <summary>The epilogue of one row of a tile: zero-point correction, then int32, float or requantised u8 out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in Int8Problem p, int* acc, int row, int j0, int cols)
    {
        int* rs = p.RowSums + j0;
        int z = p.ZeroA;
        switch (p.Output)
        {
            case Int8Output.Int32:
            {
                int* dst = p.CInt + row * p.Ldc + j0;
                for (int j = 0; j < cols; j++) dst[j] = acc[j] - z * rs[j];
                return;
            }
            case Int8Output.Float:
            {
                float* dst = p.CFloat + row * p.Ldc + j0;
                float* sw = p.ScaleW + j0;
                float* bias = p.Bias == null ? null : p.Bias + j0;
                float sa = p.ScaleA;
                int j = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; j + 8 <= cols; j += 8)
                    {
                        // Same operations in the same order as the scalar tail, so every column rounds alike.
                        var v = Vector256.ConvertToSingle(Vector256.Load(acc + j) - Vector256.Load(rs + j) * z)
                                * (Vector256.Load(sw + j) * sa);
                        if (bias != null) v += Vector256.Load(bias + j);
                        v.Store(dst + j);
                    }
                }
                for (; j < cols; j++) dst[j] = Dequantized(acc[j], z, rs[j], sw[j], sa, bias == null ? 0f : bias[j], bias != null);
                return;
            }
            default:
            {
                byte* dst = p.CByte + row * p.Ldc + j0;
                float* sw = p.ScaleW + j0;
                float* bias = p.Bias == null ? null : p.Bias + j0;
                float sa = p.ScaleA, inv = p.InvOutScale, zero = p.OutZero;
                int j = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; j + 8 <= cols; j += 8)
                    {
                        // The scalar tail's steps in the same order (Vector256.Round and MathF.Round both round half
                        // to even), so every column requantises alike.
                        var v = Vector256.ConvertToSingle(Vector256.Load(acc + j) - Vector256.Load(rs + j) * z)
                                * (Vector256.Load(sw + j) * sa);
                        if (bias != null) v += Vector256.Load(bias + j);
                        var q = Vector256.Min(Vector256.Max(Vector256.Round(v * inv) + Vector256.Create(zero), Vector256<float>.Zero),
                            Vector256.Create((float)ActivationMax));
                        var i32 = Vector256.ConvertToInt32(q);
                        var bytes = Vector256.Narrow(Vector256.Narrow(i32, i32), Vector256<short>.Zero).AsByte();
                        *(long*)(dst + j) = bytes.AsInt64().ToScalar();
                    }
                }
                for (; j < cols; j++)
                    dst[j] = Requantized(Dequantized(acc[j], z, rs[j], sw[j], sa, bias == null ? 0f : bias[j], bias != null), inv, zero);
                return;
            }
        }
    }

    /// <summary>
    /// The requantising epilogue for one dequantised value: clamp(round(v / outScale) + outZero, 0, 127), clamped in
    /// float so that a value beyond int range clamps instead of wrapping.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte Requantized(float value, float invOutScale, float outZero) =>
        (byte)Math.Clamp(MathF.Round(value * invOutScale) + outZero, 0f, ActivationMax);

    /// <summary>The dequantising epilogue for one value; the reference and the vector form follow exactly these steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Dequantized(int acc, int zeroA, int rowSum, float scaleW, float scaleA, float bias, bool hasBias)
    {
        float v = (float)(acc - zeroA * rowSum) * (scaleW * scaleA);
        return hasBias ? v + bias : v;
    }

    private static void Validate(string op, int m, ReadOnlySpan<byte> a, int lda, int zeroA, Int8PackedWeights w, int cLength, int ldc,
        ReadOnlySpan<float> scaleW, ReadOnlySpan<float> bias, bool needScales, bool checkActivations)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (m < 0) throw new ArgumentException($"{op}: m must not be negative, got {m}");
        if (lda < w.PaddedDepth)
            throw new ArgumentException($"{op}: activations with k {w.K} need lda >= {w.PaddedDepth} (k rounded up to 4), got {lda}");
        if (ldc < w.N) throw new ArgumentException($"{op}: C [{m}, {w.N}] needs ldc >= {w.N}, got {ldc}");
        if (zeroA is < 0 or > ActivationMax)
            throw new ArgumentOutOfRangeException(nameof(zeroA), zeroA, $"{op}: activation zero point must lie in [0, {ActivationMax}]");
        if (m == 0) return;
        long needA = (long)(m - 1) * lda + w.PaddedDepth;
        if (a.Length < needA) throw new ArgumentException($"{op}: activations [{m}, {w.K}] with lda {lda} need {needA} bytes, span has {a.Length}");
        long needC = (long)(m - 1) * ldc + w.N;
        if (cLength < needC) throw new ArgumentException($"{op}: C [{m}, {w.N}] with ldc {ldc} needs {needC} elements, span has {cLength}");
        if (needScales && scaleW.Length < w.N)
            throw new ArgumentException($"{op}: {w.N} output channels need {w.N} weight scales, got {scaleW.Length}");
        if (!bias.IsEmpty && bias.Length < w.N)
            throw new ArgumentException($"{op}: {w.N} output channels need {w.N} biases, got {bias.Length}");
        // A value above 127 could saturate vpmaddubsw on two of the paths and make them disagree; refuse it instead.
        if (!checkActivations) return;
        for (int i = 0; i < m; i++)
        {
            var row = a.Slice(i * lda, w.K);
            byte max = TensorPrimitives.Max(row);
            if (max > ActivationMax)
                throw new ArgumentException($"{op}: activation [{i}, {row.IndexOf(max)}] is {max}; quantised activations lie in [0, {ActivationMax}]");
        }
    }

    private enum Int8Output { Int32, Float, UInt8 }

    /// <summary>One product as raw pointers, passed by value to the parallel helper.</summary>
    private struct Int8Problem
    {
        public int M, N, RowBlock, RowBlocks;
        public byte* A;
        public nint Lda, Ldc, Steps, PanelBytes;
        public sbyte* B;
        public int* RowSums;
        public int ZeroA, OutZero;
        public float ScaleA, InvOutScale;
        public float* ScaleW, Bias;
        public Int8Output Output;
        public int* CInt;
        public float* CFloat;
        public byte* CByte;
    }
}
