using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

/// <summary>
/// Copies blocks of op(A) and op(B) into the panel layouts the micro-kernels stream through. Packing is where
/// transposes are absorbed: each of the four transpose combinations is just a different read order here, so the
/// micro-kernel sees one layout and no transposed copy of a whole matrix is ever made. Panels past the matrix edge
/// are zero-filled so that edge tiles run the same kernel.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs op(A)[0..mc, 0..kc] into ⌈mc/mr⌉ panels of mr rows: panel r holds, for p = 0..kc-1, the mr values
    /// op(A)[r·mr + i, p]. <paramref name="a"/> points at op(A)[0, 0]; op(A)[i, p] is a[i·lda + p], or a[p·lda + i]
    /// when <paramref name="trans"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<T>(bool trans, T* a, nint lda, int mc, int kc, int mr, T* dst, int firstPanel, int endPanel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (trans)
        {
            // Whole panels in groups whose source rows span whole cache lines (the GPT's weight gradients, dyᵀ·x, read
            // dy down its columns: panel by panel, each 48-byte read would come from a row 16 KiB further on and
            // leave the rest of its line to be fetched again for the next panel).
            int fullEnd = Math.Min(endPanel, mc / mr);
            for (; firstPanel + PanelGroup <= fullEnd; firstPanel += PanelGroup)
                PackPanelGroup(a + firstPanel * mr, lda, kc, mr, dst + (nint)firstPanel * mr * kc);
        }
        for (int panel = firstPanel; panel < endPanel; panel++)
        {
            int i0 = panel * mr;
            int rows = Math.Min(mr, mc - i0);
            T* d = dst + (nint)i0 * kc;
            if (trans)
                PackContiguous(a + i0, lda, rows, kc, mr, d);
            else
                PackTransposed(a + i0 * lda, lda, rows, kc, mr, d, i0 + 2 * mr <= mc);
        }
    }

    /// <summary>Panels per group in <see cref="PackPanelGroup{T}"/>: 16 × 12 floats is 12 whole cache lines per source row.</summary>
    private const int PanelGroup = 16;

    /// <summary>
    /// <see cref="PanelGroup"/> full panels whose mr values per step are contiguous in the source: for each step p, one
    /// contiguous source run of PanelGroup·mr values is dealt out to the panels, mr values each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackPanelGroup<T>(T* src, nint ld, int kc, int mr, T* dst)
        where T : unmanaged
    {
        int bytes = mr * sizeof(T);
        nint panelStride = (nint)mr * kc;
        int runBytes = PanelGroup * bytes;
        for (int p = 0; p < kc; p++, src += ld)
        {
            byte* s = (byte*)src;
            if (p + RowsAhead < kc) PrefetchRun(s + RowsAhead * ld * sizeof(T), runBytes);
            byte* d = (byte*)(dst + (nint)p * mr);
            for (int q = 0; q < PanelGroup; q++, s += bytes, d += panelStride * sizeof(T))
                CopySmall(s, d, bytes);
        }
    }

    /// <summary>How many source rows ahead a pack that walks down rows touches the lines it will read.</summary>
    private const int RowsAhead = 8;

    /// <summary>Asks for the cache line holding <paramref name="p"/> (a hint: no fault, no effect off x86).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(void* p)
    {
        if (Sse.IsSupported) Sse.Prefetch0(p);
    }

    /// <summary>Asks for every cache line of <paramref name="bytes"/> bytes from <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRun(byte* p, int bytes)
    {
        for (int i = 0; i < bytes; i += 64) Prefetch(p + i);
        Prefetch(p + bytes - 1);
    }

    /// <summary>A short copy (a panel row: 24 to 96 bytes) in the widest vectors that fit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopySmall(byte* s, byte* d, int bytes)
    {
        int i = 0;
        for (; i + 32 <= bytes; i += 32) Vector256.Store(Vector256.Load(s + i), d + i);
        for (; i + 16 <= bytes; i += 16) Vector128.Store(Vector128.Load(s + i), d + i);
        for (; i + 8 <= bytes; i += 8) *(ulong*)(d + i) = *(ulong*)(s + i);
        for (; i < bytes; i++) d[i] = s[i];
    }

    /// <summary>
    /// Packs op(B)[0..kc, 0..nc] into ⌈nc/nr⌉ panels of nr columns: panel q holds, for p = 0..kc-1, the nr values
    /// op(B)[p, q·nr + j]. op(B)[p, j] is b[p·ldb + j], or b[j·ldb + p] when <paramref name="trans"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<T>(bool trans, T* b, nint ldb, int kc, int nc, int nr, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int first = 0;
        if (!trans && Vector256.IsHardwareAccelerated && nr * sizeof(T) % 32 == 0 && nc >= 2 * nr)
        {
            // The whole panels row by row: each source row is then read as one contiguous run (a weight that comes
            // from memory, as in dx = dy·W), where panel by panel it would be read in nr-value pieces a row apart.
            first = nc / nr * nr;
            PackRowsIntoPanels(b, ldb, kc, first, nr, dst);
        }
        for (int j0 = first; j0 < nc; j0 += nr)
        {
            int cols = Math.Min(nr, nc - j0);
            T* d = dst + (nint)j0 * kc;
            if (trans)
                PackTransposed(b + j0 * ldb, ldb, cols, kc, nr, d, j0 + 2 * nr <= nc);
            else
                PackContiguous(b + j0, ldb, cols, kc, nr, d);
        }
    }

    /// <summary>
    /// <paramref name="width"/> / nr whole panels of nr columns (nr values a whole number of 32-byte vectors), filled
    /// source row by source row: row p's run of width values is dealt out to the panels, nr values each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRowsIntoPanels<T>(T* src, nint ld, int kc, int width, int nr, T* dst)
        where T : unmanaged
    {
        int bytes = nr * sizeof(T), panels = width / nr;
        nint panelStride = (nint)nr * kc * sizeof(T);
        for (int p = 0; p < kc; p++, src += ld)
        {
            byte* s = (byte*)src;
            if (p + RowsAhead < kc) PrefetchRun(s + RowsAhead * ld * sizeof(T), width * sizeof(T));
            byte* d = (byte*)(dst + (nint)p * nr);
            for (int q = 0; q < panels; q++, s += bytes, d += panelStride)
                for (int i = 0; i < bytes; i += 32) Vector256.Store(Vector256.Load(s + i), d + i);
        }
    }

    /// <summary>
    /// Panel whose `width` values per step are contiguous in the source (op(A) transposed, op(B) as stored):
    /// row p of the panel is src[p·ld .. p·ld + width), so this is kc short row copies.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackContiguous<T>(T* src, nint ld, int width, int kc, int stride, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (width == stride && stride * sizeof(T) % 64 == 0 && Vector512.IsHardwareAccelerated)
        {
            CopyRows<Vector512<byte>, Simd512<byte>>((byte*)src, ld * sizeof(T), stride * sizeof(T), kc, (byte*)dst);
            return;
        }
        if (width == stride && stride * sizeof(T) % 32 == 0 && Vector256.IsHardwareAccelerated)
        {
            CopyRows<Vector256<byte>, Simd256<byte>>((byte*)src, ld * sizeof(T), stride * sizeof(T), kc, (byte*)dst);
            return;
        }
        for (int p = 0; p < kc; p++, src += ld, dst += stride)
        {
            int j = 0;
            for (; j < width; j++) dst[j] = src[j];
            for (; j < stride; j++) dst[j] = T.Zero;
        }
    }

    /// <summary>kc rows of <paramref name="bytes"/> bytes (a whole number of registers), from rows ld bytes apart to packed rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRows<TV, TS>(byte* src, nint ld, int bytes, int kc, byte* dst) where TV : struct where TS : ISimd<TV, byte>
    {
        for (int p = 0; p < kc; p++, src += ld, dst += bytes)
        {
            if (p + RowsAhead < kc) PrefetchRun(src + RowsAhead * ld, bytes);
            for (nuint v = 0; v < (nuint)bytes; v += (nuint)TS.Count)
                TS.Store(TS.Load(in *src, v), ref *dst, v);
        }
    }

    /// <summary>
    /// Panel whose `width` source rows are each contiguous along k (op(A) as stored, op(B) transposed): a transpose of
    /// a width×kc strip into kc×stride. Float goes through 4×4 SSE transposes (about twice as fast as element by
    /// element, which matters at n ≈ 512 where packing A is several percent of the run); the edges go element-wise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposed<T>(T* src, nint ld, int width, int kc, int stride, T* dst, bool prefetchNextPanel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The next panel's rows start stride·ld further on; each block below touches its own rows' lines there.
        nint ahead = prefetchNextPanel ? stride * ld : 0;
        // Rows below i8 are transposed up to kc8 in 8×8 blocks, rows from i8 to i4 up to kc4 in 4×4 blocks; the
        // element loop finishes each row from there.
        int i8 = 0, i4 = 0, kc8 = 0, kc4 = 0;
        if (typeof(T) == typeof(float) && Avx.IsSupported)
        {
            kc8 = kc & ~7;
            for (; i8 + 8 <= width; i8 += 8)
                Transpose8Rows((float*)(src + i8 * ld), ld, kc8, stride, (float*)(dst + i8), ahead);
        }
        i4 = i8;
        if (typeof(T) == typeof(float) && Sse.IsSupported)
        {
            kc4 = kc & ~3;
            for (; i4 + 4 <= width; i4 += 4)
                Transpose4Rows((float*)(src + i4 * ld), ld, kc4, stride, (float*)(dst + i4), ahead);
        }
        for (int r = 0; r < width; r++)
        {
            T* s = src + r * ld;
            T* d = dst + r;
            for (int p = r < i8 ? kc8 : r < i4 ? kc4 : 0; p < kc; p++) d[(nint)p * stride] = s[p];
        }
        for (int r = width; r < stride; r++)
        {
            T* d = dst + r;
            for (int p = 0; p < kc; p++) d[(nint)p * stride] = T.Zero;
        }
    }

    /// <summary>
    /// Rows r0..r7 (each contiguous, `kc8` a multiple of 8 long) written as kc8 groups of 8 values, `stride` apart:
    /// 8×8 blocks transposed in registers (24 shuffles per 64 values), each column stored whole. Against the 4×4 SSE
    /// form this halves the shuffles per value and the partial-line stores into each packed row.
    /// </summary>
    private static void Transpose8Rows(float* src, nint ld, int kc8, int stride, float* dst, nint ahead)
    {
        float* s0 = src, s1 = src + ld, s2 = src + 2 * ld, s3 = src + 3 * ld;
        float* s4 = src + 4 * ld, s5 = src + 5 * ld, s6 = src + 6 * ld, s7 = src + 7 * ld;
        for (int p = 0; p < kc8; p += 8)
        {
            if (ahead != 0 && (p & 15) == 0)
                for (int r = 0; r < 8; r++) Prefetch(src + ahead + r * ld + p);
            var r0 = Avx.LoadVector256(s0 + p);
            var r1 = Avx.LoadVector256(s1 + p);
            var r2 = Avx.LoadVector256(s2 + p);
            var r3 = Avx.LoadVector256(s3 + p);
            var r4 = Avx.LoadVector256(s4 + p);
            var r5 = Avx.LoadVector256(s5 + p);
            var r6 = Avx.LoadVector256(s6 + p);
            var r7 = Avx.LoadVector256(s7 + p);
            var t0 = Avx.UnpackLow(r0, r1);  // r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5]
            var t1 = Avx.UnpackHigh(r0, r1); // r0[2] r1[2] r0[3] r1[3] | r0[6] r1[6] r0[7] r1[7]
            var t2 = Avx.UnpackLow(r2, r3);
            var t3 = Avx.UnpackHigh(r2, r3);
            var t4 = Avx.UnpackLow(r4, r5);
            var t5 = Avx.UnpackHigh(r4, r5);
            var t6 = Avx.UnpackLow(r6, r7);
            var t7 = Avx.UnpackHigh(r6, r7);
            var u0 = Avx.Shuffle(t0, t2, 0x44); // r0..r3 at [0] | at [4]
            var u1 = Avx.Shuffle(t0, t2, 0xEE); // at [1] | [5]
            var u2 = Avx.Shuffle(t1, t3, 0x44); // at [2] | [6]
            var u3 = Avx.Shuffle(t1, t3, 0xEE); // at [3] | [7]
            var u4 = Avx.Shuffle(t4, t6, 0x44); // r4..r7 likewise
            var u5 = Avx.Shuffle(t4, t6, 0xEE);
            var u6 = Avx.Shuffle(t5, t7, 0x44);
            var u7 = Avx.Shuffle(t5, t7, 0xEE);
            float* d = dst + (nint)p * stride;
            Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));              // column p
            Avx.Store(d + stride, Avx.Permute2x128(u1, u5, 0x20));     // column p + 1
            Avx.Store(d + 2 * stride, Avx.Permute2x128(u2, u6, 0x20));
            Avx.Store(d + 3 * stride, Avx.Permute2x128(u3, u7, 0x20));
            Avx.Store(d + 4 * stride, Avx.Permute2x128(u0, u4, 0x31)); // column p + 4
            Avx.Store(d + 5 * stride, Avx.Permute2x128(u1, u5, 0x31));
            Avx.Store(d + 6 * stride, Avx.Permute2x128(u2, u6, 0x31));
            Avx.Store(d + 7 * stride, Avx.Permute2x128(u3, u7, 0x31));
        }
    }

    /// <summary>Rows r0..r3 (each contiguous, `kc4` a multiple of 4 long) written as kc4 groups of 4 values, `stride` apart.</summary>
    private static void Transpose4Rows(float* src, nint ld, int kc4, int stride, float* dst, nint ahead)
    {
        float* s0 = src, s1 = src + ld, s2 = src + 2 * ld, s3 = src + 3 * ld;
        for (int p = 0; p < kc4; p += 4)
        {
            if (ahead != 0 && (p & 15) == 0)
                for (int r = 0; r < 4; r++) Prefetch(src + ahead + r * ld + p);
            var r0 = Sse.LoadVector128(s0 + p);
            var r1 = Sse.LoadVector128(s1 + p);
            var r2 = Sse.LoadVector128(s2 + p);
            var r3 = Sse.LoadVector128(s3 + p);
            var t0 = Sse.UnpackLow(r0, r1);  // r0[0] r1[0] r0[1] r1[1]
            var t1 = Sse.UnpackLow(r2, r3);  // r2[0] r3[0] r2[1] r3[1]
            var t2 = Sse.UnpackHigh(r0, r1); // r0[2] r1[2] r0[3] r1[3]
            var t3 = Sse.UnpackHigh(r2, r3); // r2[2] r3[2] r2[3] r3[3]
            float* d = dst + (nint)p * stride;
            Sse.Store(d, Sse.MoveLowToHigh(t0, t1));              // column p
            Sse.Store(d + stride, Sse.MoveHighToLow(t1, t0));     // column p + 1
            Sse.Store(d + 2 * stride, Sse.MoveLowToHigh(t2, t3)); // column p + 2
            Sse.Store(d + 3 * stride, Sse.MoveHighToLow(t3, t2)); // column p + 3
        }
    }
}
