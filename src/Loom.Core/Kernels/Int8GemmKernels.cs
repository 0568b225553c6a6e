using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

/// <summary>
/// An int8 register tile: C[0..MR, 0..32] = A[0..MR, 0..4·steps] · Wᵀ for two packed panels of W (32 output
/// columns), as int32, written to <c>c</c> with row stride 32. <c>a</c> rows are u8 (values in [0, 127]) and are read
/// four bytes at a time, broadcast to every lane; <c>b</c> is the first panel, the second lies <c>panelBytes</c> on.
/// <see cref="RunRow"/> is the one-row form, for batch-1 products and the rows left over below MR.
/// </summary>
internal unsafe interface IInt8MicroKernel
{
    static abstract int MR { get; }

    static abstract void Run(nint steps, byte* a, nint lda, sbyte* b, nint panelBytes, int* c);

    static abstract void RunRow(nint steps, byte* a, sbyte* b, nint panelBytes, int* c);
}

/// <summary>
/// 512-bit tile, 4 rows × 32 columns, from <c>vpmaddubsw</c> (u8·s8 pairs summed into int16) and <c>vpmaddwd</c>
/// against ones (int16 pairs into int32). The int16 step cannot saturate because activations are at most 127 and
/// weights at most 127 in magnitude: 2·127·127 = 32258 &lt; 32767 (see <see cref="Int8Gemm"/>).
/// </summary>
internal readonly unsafe struct Int8KernelAvx512BW : IInt8MicroKernel
{
    public static int MR => 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint steps, byte* a, nint lda, sbyte* b, nint panelBytes, int* c)
    {
        Vector512<int> c0a = default, c0b = default, c1a = default, c1b = default;
        Vector512<int> c2a = default, c2b = default, c3a = default, c3b = default;
        var ones = Vector512.Create((short)1);
        sbyte* b1 = b + panelBytes;
        byte* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        for (nint s = 0; s < steps; s++)
        {
            var w0 = Vector512.Load(b + s * 64);
            var w1 = Vector512.Load(b1 + s * 64);
            Vector512<byte> x;
            x = Broadcast(a0 + 4 * s); c0a = Dot(c0a, x, w0, ones); c0b = Dot(c0b, x, w1, ones);
            x = Broadcast(a1 + 4 * s); c1a = Dot(c1a, x, w0, ones); c1b = Dot(c1b, x, w1, ones);
            x = Broadcast(a2 + 4 * s); c2a = Dot(c2a, x, w0, ones); c2b = Dot(c2b, x, w1, ones);
            x = Broadcast(a3 + 4 * s); c3a = Dot(c3a, x, w0, ones); c3b = Dot(c3b, x, w1, ones);
        }
        c0a.Store(c); c0b.Store(c + 16);
        c1a.Store(c + 32); c1b.Store(c + 48);
        c2a.Store(c + 64); c2b.Store(c + 80);
        c3a.Store(c + 96); c3b.Store(c + 112);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunRow(nint steps, byte* a, sbyte* b, nint panelBytes, int* c)
    {
        // Two steps of k per iteration into separate accumulators: four independent chains instead of two.
        Vector512<int> ea = default, eb = default, oa = default, ob = default;
        var ones = Vector512.Create((short)1);
        sbyte* b1 = b + panelBytes;
        nint s = 0;
        for (; s + 2 <= steps; s += 2)
        {
            var x = Broadcast(a + 4 * s);
            ea = Dot(ea, x, Vector512.Load(b + s * 64), ones);
            eb = Dot(eb, x, Vector512.Load(b1 + s * 64), ones);
            var y = Broadcast(a + 4 * s + 4);
            oa = Dot(oa, y, Vector512.Load(b + s * 64 + 64), ones);
            ob = Dot(ob, y, Vector512.Load(b1 + s * 64 + 64), ones);
        }
        if (s < steps)
        {
            var x = Broadcast(a + 4 * s);
            ea = Dot(ea, x, Vector512.Load(b + s * 64), ones);
            eb = Dot(eb, x, Vector512.Load(b1 + s * 64), ones);
        }
        (ea + oa).Store(c);
        (eb + ob).Store(c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Broadcast(byte* p) => Vector512.Create(Unsafe.ReadUnaligned<int>(p)).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot(Vector512<int> acc, Vector512<byte> x, Vector512<sbyte> w, Vector512<short> ones) =>
        acc + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w), ones);
}

/// <summary>acc + the sums of four adjacent u8·s8 products per int32 lane, one way per 256-bit path.</summary>
internal interface IInt8Dot256
{
    static abstract Vector256<int> Dot(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> w);
}

/// <summary><c>vpdpbusd</c>: the four products and their sum in one instruction, without an int16 intermediate.</summary>
internal readonly struct Int8DotAvxVnni : IInt8Dot256
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> w) => AvxVnni.MultiplyWideningAndAdd(acc, x, w);
}

/// <summary><c>vpmaddubsw</c> + <c>vpmaddwd</c> + add: the AVX2 form (no saturation for the operand ranges used).</summary>
internal readonly struct Int8DotAvx2 : IInt8Dot256
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> w) =>
        acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w), Vector256.Create((short)1));
}

/// <summary>
/// 256-bit tile, 3 rows × 32 columns (four registers per row): 12 accumulators, 4 weight vectors and a broadcast.
/// </summary>
internal readonly unsafe struct Int8Kernel256<TDot> : IInt8MicroKernel where TDot : IInt8Dot256
{
    public static int MR => 3;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint steps, byte* a, nint lda, sbyte* b, nint panelBytes, int* c)
    {
        Vector256<int> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<int> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<int> c20 = default, c21 = default, c22 = default, c23 = default;
        sbyte* b1 = b + panelBytes;
        byte* a0 = a, a1 = a + lda, a2 = a + 2 * lda;
        for (nint s = 0; s < steps; s++)
        {
            var w0 = Vector256.Load(b + s * 64);
            var w1 = Vector256.Load(b + s * 64 + 32);
            var w2 = Vector256.Load(b1 + s * 64);
            var w3 = Vector256.Load(b1 + s * 64 + 32);
            Vector256<byte> x;
            x = Broadcast(a0 + 4 * s);
            c00 = TDot.Dot(c00, x, w0); c01 = TDot.Dot(c01, x, w1); c02 = TDot.Dot(c02, x, w2); c03 = TDot.Dot(c03, x, w3);
            x = Broadcast(a1 + 4 * s);
            c10 = TDot.Dot(c10, x, w0); c11 = TDot.Dot(c11, x, w1); c12 = TDot.Dot(c12, x, w2); c13 = TDot.Dot(c13, x, w3);
            x = Broadcast(a2 + 4 * s);
            c20 = TDot.Dot(c20, x, w0); c21 = TDot.Dot(c21, x, w1); c22 = TDot.Dot(c22, x, w2); c23 = TDot.Dot(c23, x, w3);
        }
        c00.Store(c); c01.Store(c + 8); c02.Store(c + 16); c03.Store(c + 24);
        c10.Store(c + 32); c11.Store(c + 40); c12.Store(c + 48); c13.Store(c + 56);
        c20.Store(c + 64); c21.Store(c + 72); c22.Store(c + 80); c23.Store(c + 88);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunRow(nint steps, byte* a, sbyte* b, nint panelBytes, int* c)
    {
        // Two steps of k per iteration into separate accumulators: eight chains hide vpdpbusd's latency.
        Vector256<int> e0 = default, e1 = default, e2 = default, e3 = default;
        Vector256<int> o0 = default, o1 = default, o2 = default, o3 = default;
        sbyte* b1 = b + panelBytes;
        nint s = 0;
        for (; s + 2 <= steps; s += 2)
        {
            var x = Broadcast(a + 4 * s);
            e0 = TDot.Dot(e0, x, Vector256.Load(b + s * 64));
            e1 = TDot.Dot(e1, x, Vector256.Load(b + s * 64 + 32));
            e2 = TDot.Dot(e2, x, Vector256.Load(b1 + s * 64));
            e3 = TDot.Dot(e3, x, Vector256.Load(b1 + s * 64 + 32));
            var y = Broadcast(a + 4 * s + 4);
            o0 = TDot.Dot(o0, y, Vector256.Load(b + s * 64 + 64));
            o1 = TDot.Dot(o1, y, Vector256.Load(b + s * 64 + 96));
            o2 = TDot.Dot(o2, y, Vector256.Load(b1 + s * 64 + 64));
            o3 = TDot.Dot(o3, y, Vector256.Load(b1 + s * 64 + 96));
        }
        if (s < steps)
        {
            var x = Broadcast(a + 4 * s);
            e0 = TDot.Dot(e0, x, Vector256.Load(b + s * 64));
            e1 = TDot.Dot(e1, x, Vector256.Load(b + s * 64 + 32));
            e2 = TDot.Dot(e2, x, Vector256.Load(b1 + s * 64));
            e3 = TDot.Dot(e3, x, Vector256.Load(b1 + s * 64 + 32));
        }
        (e0 + o0).Store(c); (e1 + o1).Store(c + 8); (e2 + o2).Store(c + 16); (e3 + o3).Store(c + 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Broadcast(byte* p) => Vector256.Create(Unsafe.ReadUnaligned<int>(p)).AsByte();
}

/// <summary>The portable tile: one row, plain integer arithmetic over the packed layout.</summary>
internal readonly unsafe struct Int8KernelScalar : IInt8MicroKernel
{
    public static int MR => 1;

    public static void Run(nint steps, byte* a, nint lda, sbyte* b, nint panelBytes, int* c) => RunRow(steps, a, b, panelBytes, c);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunRow(nint steps, byte* a, sbyte* b, nint panelBytes, int* c)
    {
        for (int half = 0; half < 2; half++)
        {
            sbyte* panel = b + half * panelBytes;
            int* out16 = c + half * Int8PackedWeights.PanelWidth;
            for (int lane = 0; lane < Int8PackedWeights.PanelWidth; lane++)
            {
                int sum = 0;
                sbyte* w = panel + lane * 4;
                for (nint s = 0; s < steps; s++)
                {
                    byte* x = a + 4 * s;
                    sbyte* ws = w + s * 64;
                    sum += x[0] * ws[0] + x[1] * ws[1] + x[2] * ws[2] + x[3] * ws[3];
                }
                out16[lane] = sum;
            }
        }
    }
}
