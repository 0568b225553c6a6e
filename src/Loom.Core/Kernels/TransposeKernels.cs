using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

/// <summary>
/// Copies of views whose last two axes are swapped (<c>x.Transpose(-2, -1).Contiguous()</c>, channels-last
/// permutes): destination [..., R, C] row-major from a source in which element (r, c) of each matrix sits at
/// matrixOffset + r + c·s, unit stride along R.
/// </summary>
/// <remarks>
/// A row-at-a-time gather reads such a source with stride s, a new cache line (and, for large s, a new page) per
/// element: 547 ms for an 8192² float matrix (1 GB/s). Here a work unit is a block of destination rows, walked in
/// strips of columns one cache line wide (16 floats, 8 doubles). In a strip the source rows are read as that many
/// sequential streams and each tile is transposed in registers: with AVX-512 a tile is 16×16 floats (8×8 doubles),
/// so every source line is read whole and every destination line written whole; with AVX only, 8×8 floats (4×4
/// doubles), half lines; other element sizes, scalar. 46 ms for the 8192² matrix, half the speed of a plain copy
/// (which, unlike this, writes without reading the destination lines first).
/// </remarks>
internal static unsafe class TransposeKernels
{
    /// <summary>Destination elements per thread below which a dispatch does not pay.</summary>
    private const int ParallelGrain = 1 << 17;

    /// <summary>
    /// Destination rows per work unit. A unit reads each of its source rows for BlockRows elements (1 KB of floats)
    /// before moving on, and keeps BlockRows destination pages in flight; 256 was fastest on an 8192² float matrix
    /// (64: 55 ms, 256: 46 ms, whole rows: 80 ms; a copy takes 23 ms).
    /// </summary>
    private const int BlockRows = 256;

    /// <summary>
    /// destination[m·R·C + r·C + c] = source[matrixOffsets[m] + r + c·<paramref name="colStride"/>] for every matrix m,
    /// r &lt; <paramref name="rows"/>, c &lt; <paramref name="cols"/>.
    /// </summary>
    public static void Gather<T>(ReadOnlySpan<T> source, ReadOnlySpan<int> matrixOffsets, int rows, int cols, int colStride, Span<T> destination) where T : unmanaged
    {
        int matrices = matrixOffsets.Length;
        if (matrices == 0 || rows == 0 || cols == 0) return;
        if (destination.Length < (long)matrices * rows * cols)
            throw new ArgumentException($"transpose: destination of {destination.Length} elements cannot hold {matrices} matrices of {rows}×{cols}");
        int strip = Math.Max(1, 64 / Unsafe.SizeOf<T>());
        int blocks = (rows + BlockRows - 1) / BlockRows;
        // The spans stay pinned for the whole (synchronous) parallel loop, so its static body can take raw pointers.
        fixed (T* src = source, dst = destination)
        fixed (int* offsets = matrixOffsets)
        {
            var job = new Job<T>(src, dst, offsets, rows, cols, colStride, strip, blocks);
            int grain = Math.Max(1, ParallelGrain / Math.Max(1, Math.Min(rows, BlockRows) * cols));
            ParallelHelper.For(matrices * blocks, grain, job, static (j, start, end) =>
            {
                for (int u = start; u < end; u++) j.Block(u);
            });
        }
    }

    private readonly struct Job<T>(T* source, T* destination, int* offsets, int rows, int cols, int colStride, int strip, int blocks) where T : unmanaged
    {
        /// <summary>Unit u: destination rows [r0, r0 + BlockRows) of matrix u / blocks, one strip of columns after another.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Block(int u)
        {
            int m = u / blocks, r0 = u % blocks * BlockRows, r1 = Math.Min(rows, r0 + BlockRows);
            T* src = source + offsets[m];
            T* dst = destination + (long)m * rows * cols;
            for (int c0 = 0; c0 < cols; c0 += strip) Strip(src, dst, r0, r1, c0, Math.Min(cols, c0 + strip));
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Strip(T* src, T* dst, int r0, int r1, int c0, int c1)
        {
            int r = r0;
            if (Unsafe.SizeOf<T>() == 4 && Avx512F.IsSupported && c1 - c0 == 16)
            {
                for (; r + 16 <= r1; r += 16)
                    Tile16x16((float*)(src + r + (long)c0 * colStride), colStride, (float*)(dst + (long)r * cols + c0), cols);
            }
            else if (Unsafe.SizeOf<T>() == 8 && Avx512F.IsSupported && c1 - c0 == 8)
            {
                for (; r + 8 <= r1; r += 8)
                    Tile8x8Double((double*)(src + r + (long)c0 * colStride), colStride, (double*)(dst + (long)r * cols + c0), cols);
            }
            if (Unsafe.SizeOf<T>() == 4 && Avx.IsSupported)
            {
                for (; r + 8 <= r1; r += 8)
                {
                    int c = c0;
                    for (; c + 8 <= c1; c += 8)
                        Tile8x8Avx((float*)(src + r + (long)c * colStride), colStride, (float*)(dst + (long)r * cols + c), cols);
                    Scalar(src, dst, r, r + 8, c, c1);
                }
            }
            else if (Unsafe.SizeOf<T>() == 8 && Avx.IsSupported)
            {
                for (; r + 4 <= r1; r += 4)
                {
                    int c = c0;
                    for (; c + 4 <= c1; c += 4)
                        Tile4x4Avx((double*)(src + r + (long)c * colStride), colStride, (double*)(dst + (long)r * cols + c), cols);
                    Scalar(src, dst, r, r + 4, c, c1);
                }
            }
            Scalar(src, dst, r, r1, c0, c1);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Scalar(T* src, T* dst, int r0, int r1, int c0, int c1)
        {
            for (int c = c0; c < c1; c++)
            {
                T* s = src + (long)c * colStride;
                for (int r = r0; r < r1; r++) dst[(long)r * cols + c] = s[r];
            }
        }
    }

    // The tiles. A float tile is first interleaved by pairs of rows (unpack low/high within 128-bit lanes), after which
    // each 64-bit element holds one column's two floats of those rows: transposing that as a double tile then moves
    // whole pairs, and two double transposes (the low and the high unpacks) finish it. So a float tile costs the
    // shuffles of the classic transpose, and each register width has one transpose, written for 64-bit elements.
    // In the double transposes output k (column k of the tile) is stored at d + (k / 2)·pair + (k % 2)·one bytes:
    // for a double tile pair = 2 rows and one = 1 row of the destination; for the low half of a float tile, whose
    // element k is column 4·(k / 2) + k % 2, pair = 4 rows and one = 1 row (the high half starts 2 rows later).

    /// <summary>Rows k of the tile are the 16 floats (one cache line) at s + k·ss; they land as columns of the 16 rows at d + j·ds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile16x16(float* s, int ss, float* d, int ds)
    {
        long st = ss, dt = ds * sizeof(float);
        RowPair512(s, st, out var l0, out var h0);
        RowPair512(s + 2 * st, st, out var l1, out var h1);
        RowPair512(s + 4 * st, st, out var l2, out var h2);
        RowPair512(s + 6 * st, st, out var l3, out var h3);
        RowPair512(s + 8 * st, st, out var l4, out var h4);
        RowPair512(s + 10 * st, st, out var l5, out var h5);
        RowPair512(s + 12 * st, st, out var l6, out var h6);
        RowPair512(s + 14 * st, st, out var l7, out var h7);
        Transpose8x8((byte*)d, 4 * dt, dt, l0, l1, l2, l3, l4, l5, l6, l7);
        Transpose8x8((byte*)d + 2 * dt, 4 * dt, dt, h0, h1, h2, h3, h4, h5, h6, h7);
    }

    /// <summary>Eight rows of 8 doubles (one cache line each) at s + k·ss become the columns of the 8 rows at d + j·ds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile8x8Double(double* s, int ss, double* d, int ds)
    {
        long st = ss, dt = ds * sizeof(double);
        Transpose8x8((byte*)d, 2 * dt, dt, Avx512F.LoadVector512(s), Avx512F.LoadVector512(s + st), Avx512F.LoadVector512(s + 2 * st),
            Avx512F.LoadVector512(s + 3 * st), Avx512F.LoadVector512(s + 4 * st), Avx512F.LoadVector512(s + 5 * st),
            Avx512F.LoadVector512(s + 6 * st), Avx512F.LoadVector512(s + 7 * st));
    }

    /// <summary>Rows k of the tile are the 8 floats at s + k·ss; they land as columns of the 8 rows at d + j·ds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile8x8Avx(float* s, int ss, float* d, int ds)
    {
        long st = ss, dt = ds * sizeof(float);
        RowPair256(s, st, out var l0, out var h0);
        RowPair256(s + 2 * st, st, out var l1, out var h1);
        RowPair256(s + 4 * st, st, out var l2, out var h2);
        RowPair256(s + 6 * st, st, out var l3, out var h3);
        Transpose4x4((byte*)d, 4 * dt, dt, l0, l1, l2, l3);
        Transpose4x4((byte*)d + 2 * dt, 4 * dt, dt, h0, h1, h2, h3);
    }

    /// <summary>The 4×4 double version of <see cref="Tile8x8Avx"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x4Avx(double* s, int ss, double* d, int ds)
    {
        long st = ss, dt = ds * sizeof(double);
        Transpose4x4((byte*)d, 2 * dt, dt, Avx.LoadVector256(s), Avx.LoadVector256(s + st), Avx.LoadVector256(s + 2 * st), Avx.LoadVector256(s + 3 * st));
    }

    /// <summary>Rows s and s + st interleaved: element k of each result holds both rows' floats of one column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowPair512(float* s, long st, out Vector512<double> low, out Vector512<double> high)
    {
        var a = Avx512F.LoadVector512(s);
        var b = Avx512F.LoadVector512(s + st);
        low = Avx512F.UnpackLow(a, b).AsDouble();
        high = Avx512F.UnpackHigh(a, b).AsDouble();
    }

    /// <summary>As <see cref="RowPair512"/> for 8 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowPair256(float* s, long st, out Vector256<double> low, out Vector256<double> high)
    {
        var a = Avx.LoadVector256(s);
        var b = Avx.LoadVector256(s + st);
        low = Avx.UnpackLow(a, b).AsDouble();
        high = Avx.UnpackHigh(a, b).AsDouble();
    }

    /// <summary>Transposes 8×8 64-bit elements held in r0…r7 and stores output k at d + (k / 2)·pair + (k % 2)·one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(byte* d, long pair, long one, Vector512<double> r0, Vector512<double> r1, Vector512<double> r2,
        Vector512<double> r3, Vector512<double> r4, Vector512<double> r5, Vector512<double> r6, Vector512<double> r7)
    {
        // Three rounds: elements interleaved within 128-bit lanes (t[2p + j] lane L holds elements 2L + j of rows
        // 2p, 2p + 1), then 128-bit lanes regrouped twice; the last round stores outputs k and k + 4 together.
        Interleave(r0, r1, out var t0, out var t1);
        Interleave(r2, r3, out var t2, out var t3);
        Interleave(r4, r5, out var t4, out var t5);
        Interleave(r6, r7, out var t6, out var t7);
        RegroupLanes(t0, t2, out var a0, out var a2);
        RegroupLanes(t4, t6, out var b0, out var b2);
        RegroupLanes(t1, t3, out var a1, out var a3);
        RegroupLanes(t5, t7, out var b1, out var b3);
        StoreRegrouped(d, 2 * pair, a0, b0);
        StoreRegrouped(d + pair, 2 * pair, a2, b2);
        StoreRegrouped(d + one, 2 * pair, a1, b1);
        StoreRegrouped(d + pair + one, 2 * pair, a3, b3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(Vector512<double> a, Vector512<double> b, out Vector512<double> low, out Vector512<double> high)
    {
        low = Avx512F.UnpackLow(a, b);
        high = Avx512F.UnpackHigh(a, b);
    }

    /// <summary>Lanes 0 and 2 of a then of b into <paramref name="even"/>, lanes 1 and 3 into <paramref name="odd"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RegroupLanes(Vector512<double> a, Vector512<double> b, out Vector512<double> even, out Vector512<double> odd)
    {
        even = Avx512F.Shuffle4x128(a, b, 0x88);
        odd = Avx512F.Shuffle4x128(a, b, 0xDD);
    }

    /// <summary>The last regrouping: its even-lane result at d, its odd-lane result at d + offset.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRegrouped(byte* d, long offset, Vector512<double> a, Vector512<double> b)
    {
        RegroupLanes(a, b, out var even, out var odd);
        Avx512F.Store((double*)d, even);
        Avx512F.Store((double*)(d + offset), odd);
    }

    /// <summary>The 4×4 version of <see cref="Transpose8x8"/> in 256-bit registers: one unpack round, one lane permute.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x4(byte* d, long pair, long one, Vector256<double> r0, Vector256<double> r1, Vector256<double> r2, Vector256<double> r3)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        Avx.Store((double*)d, Avx.Permute2x128(t0, t2, 0x20));
        Avx.Store((double*)(d + one), Avx.Permute2x128(t1, t3, 0x20));
        Avx.Store((double*)(d + pair), Avx.Permute2x128(t0, t2, 0x31));
        Avx.Store((double*)(d + pair + one), Avx.Permute2x128(t1, t3, 0x31));
    }
}
