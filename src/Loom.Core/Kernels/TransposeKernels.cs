using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Threading;

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

    /// <summary>
    /// Rows k of the tile are the 16 floats (one cache line) at s + k·ss; they land as columns of the 16 rows at
    /// d + j·ds, so both sides move whole lines.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile16x16(float* s, int ss, float* d, int ds)
    {
        long st = ss, dt = ds;
        // Written out in full so that all 32 zmm registers stay registers (a stackalloc'd array would not).
        var r0 = Avx512F.LoadVector512(s);
        var r1 = Avx512F.LoadVector512(s + 1 * st);
        var r2 = Avx512F.LoadVector512(s + 2 * st);
        var r3 = Avx512F.LoadVector512(s + 3 * st);
        var r4 = Avx512F.LoadVector512(s + 4 * st);
        var r5 = Avx512F.LoadVector512(s + 5 * st);
        var r6 = Avx512F.LoadVector512(s + 6 * st);
        var r7 = Avx512F.LoadVector512(s + 7 * st);
        var r8 = Avx512F.LoadVector512(s + 8 * st);
        var r9 = Avx512F.LoadVector512(s + 9 * st);
        var r10 = Avx512F.LoadVector512(s + 10 * st);
        var r11 = Avx512F.LoadVector512(s + 11 * st);
        var r12 = Avx512F.LoadVector512(s + 12 * st);
        var r13 = Avx512F.LoadVector512(s + 13 * st);
        var r14 = Avx512F.LoadVector512(s + 14 * st);
        var r15 = Avx512F.LoadVector512(s + 15 * st);
        // Within 128-bit lanes: u[4g + j] lane L holds column 4L + j of rows 4g..4g+3.
        var t0 = Avx512F.UnpackLow(r0, r1);
        var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3);
        var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5);
        var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7);
        var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9);
        var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11);
        var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13);
        var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15);
        var t15 = Avx512F.UnpackHigh(r14, r15);
        var u0 = Avx512F.Shuffle(t0, t2, 0x44);
        var u1 = Avx512F.Shuffle(t0, t2, 0xEE);
        var u2 = Avx512F.Shuffle(t1, t3, 0x44);
        var u3 = Avx512F.Shuffle(t1, t3, 0xEE);
        var u4 = Avx512F.Shuffle(t4, t6, 0x44);
        var u5 = Avx512F.Shuffle(t4, t6, 0xEE);
        var u6 = Avx512F.Shuffle(t5, t7, 0x44);
        var u7 = Avx512F.Shuffle(t5, t7, 0xEE);
        var u8 = Avx512F.Shuffle(t8, t10, 0x44);
        var u9 = Avx512F.Shuffle(t8, t10, 0xEE);
        var u10 = Avx512F.Shuffle(t9, t11, 0x44);
        var u11 = Avx512F.Shuffle(t9, t11, 0xEE);
        var u12 = Avx512F.Shuffle(t12, t14, 0x44);
        var u13 = Avx512F.Shuffle(t12, t14, 0xEE);
        var u14 = Avx512F.Shuffle(t13, t15, 0x44);
        var u15 = Avx512F.Shuffle(t13, t15, 0xEE);
        // Across lanes: lane L of u[j], u[4 + j], u[8 + j], u[12 + j] makes column 4L + j (0x88 picks lanes 0, 2; 0xDD lanes 1, 3).
        var v0 = Avx512F.Shuffle4x128(u0, u4, 0x88);
        var v4 = Avx512F.Shuffle4x128(u0, u4, 0xDD);
        var v8 = Avx512F.Shuffle4x128(u8, u12, 0x88);
        var v12 = Avx512F.Shuffle4x128(u8, u12, 0xDD);
        var v1 = Avx512F.Shuffle4x128(u1, u5, 0x88);
        var v5 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        var v9 = Avx512F.Shuffle4x128(u9, u13, 0x88);
        var v13 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
        var v2 = Avx512F.Shuffle4x128(u2, u6, 0x88);
        var v6 = Avx512F.Shuffle4x128(u2, u6, 0xDD);
        var v10 = Avx512F.Shuffle4x128(u10, u14, 0x88);
        var v14 = Avx512F.Shuffle4x128(u10, u14, 0xDD);
        var v3 = Avx512F.Shuffle4x128(u3, u7, 0x88);
        var v7 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        var v11 = Avx512F.Shuffle4x128(u11, u15, 0x88);
        var v15 = Avx512F.Shuffle4x128(u11, u15, 0xDD);
        Avx512F.Store(d, Avx512F.Shuffle4x128(v0, v8, 0x88));
        Avx512F.Store(d + 4 * dt, Avx512F.Shuffle4x128(v4, v12, 0x88));
        Avx512F.Store(d + 8 * dt, Avx512F.Shuffle4x128(v0, v8, 0xDD));
        Avx512F.Store(d + 12 * dt, Avx512F.Shuffle4x128(v4, v12, 0xDD));
        Avx512F.Store(d + 1 * dt, Avx512F.Shuffle4x128(v1, v9, 0x88));
        Avx512F.Store(d + 5 * dt, Avx512F.Shuffle4x128(v5, v13, 0x88));
        Avx512F.Store(d + 9 * dt, Avx512F.Shuffle4x128(v1, v9, 0xDD));
        Avx512F.Store(d + 13 * dt, Avx512F.Shuffle4x128(v5, v13, 0xDD));
        Avx512F.Store(d + 2 * dt, Avx512F.Shuffle4x128(v2, v10, 0x88));
        Avx512F.Store(d + 6 * dt, Avx512F.Shuffle4x128(v6, v14, 0x88));
        Avx512F.Store(d + 10 * dt, Avx512F.Shuffle4x128(v2, v10, 0xDD));
        Avx512F.Store(d + 14 * dt, Avx512F.Shuffle4x128(v6, v14, 0xDD));
        Avx512F.Store(d + 3 * dt, Avx512F.Shuffle4x128(v3, v11, 0x88));
        Avx512F.Store(d + 7 * dt, Avx512F.Shuffle4x128(v7, v15, 0x88));
        Avx512F.Store(d + 11 * dt, Avx512F.Shuffle4x128(v3, v11, 0xDD));
        Avx512F.Store(d + 15 * dt, Avx512F.Shuffle4x128(v7, v15, 0xDD));
    }

    /// <summary>The 8×8 double version of <see cref="Tile16x16"/>: eight whole cache lines in, eight out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile8x8Double(double* s, int ss, double* d, int ds)
    {
        long st = ss, dt = ds;
        var r0 = Avx512F.LoadVector512(s);
        var r1 = Avx512F.LoadVector512(s + 1 * st);
        var r2 = Avx512F.LoadVector512(s + 2 * st);
        var r3 = Avx512F.LoadVector512(s + 3 * st);
        var r4 = Avx512F.LoadVector512(s + 4 * st);
        var r5 = Avx512F.LoadVector512(s + 5 * st);
        var r6 = Avx512F.LoadVector512(s + 6 * st);
        var r7 = Avx512F.LoadVector512(s + 7 * st);
        // t[2p + j] lane L holds column 2L + j of rows 2p, 2p + 1.
        var t0 = Avx512F.UnpackLow(r0, r1);
        var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3);
        var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5);
        var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7);
        var t7 = Avx512F.UnpackHigh(r6, r7);
        var a0 = Avx512F.Shuffle4x128(t0, t2, 0x88);
        var a2 = Avx512F.Shuffle4x128(t0, t2, 0xDD);
        var b0 = Avx512F.Shuffle4x128(t4, t6, 0x88);
        var b2 = Avx512F.Shuffle4x128(t4, t6, 0xDD);
        var a1 = Avx512F.Shuffle4x128(t1, t3, 0x88);
        var a3 = Avx512F.Shuffle4x128(t1, t3, 0xDD);
        var b1 = Avx512F.Shuffle4x128(t5, t7, 0x88);
        var b3 = Avx512F.Shuffle4x128(t5, t7, 0xDD);
        Avx512F.Store(d, Avx512F.Shuffle4x128(a0, b0, 0x88));
        Avx512F.Store(d + 2 * dt, Avx512F.Shuffle4x128(a2, b2, 0x88));
        Avx512F.Store(d + 4 * dt, Avx512F.Shuffle4x128(a0, b0, 0xDD));
        Avx512F.Store(d + 6 * dt, Avx512F.Shuffle4x128(a2, b2, 0xDD));
        Avx512F.Store(d + 1 * dt, Avx512F.Shuffle4x128(a1, b1, 0x88));
        Avx512F.Store(d + 3 * dt, Avx512F.Shuffle4x128(a3, b3, 0x88));
        Avx512F.Store(d + 5 * dt, Avx512F.Shuffle4x128(a1, b1, 0xDD));
        Avx512F.Store(d + 7 * dt, Avx512F.Shuffle4x128(a3, b3, 0xDD));
    }

    /// <summary>Rows k of the tile are the 8 floats at s + k·ss; they land as columns of the 8 rows at d + j·ds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile8x8Avx(float* s, int ss, float* d, int ds)
    {
        long st = ss;
        var r0 = Avx.LoadVector256(s);
        var r1 = Avx.LoadVector256(s + st);
        var r2 = Avx.LoadVector256(s + 2 * st);
        var r3 = Avx.LoadVector256(s + 3 * st);
        var r4 = Avx.LoadVector256(s + 4 * st);
        var r5 = Avx.LoadVector256(s + 5 * st);
        var r6 = Avx.LoadVector256(s + 6 * st);
        var r7 = Avx.LoadVector256(s + 7 * st);
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves: the classic 24-shuffle transpose.
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        long dt = ds;
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + dt, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * dt, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * dt, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * dt, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * dt, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * dt, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * dt, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>The 4×4 double version of <see cref="Tile8x8Avx"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x4Avx(double* s, int ss, double* d, int ds)
    {
        long st = ss, dt = ds;
        var r0 = Avx.LoadVector256(s);
        var r1 = Avx.LoadVector256(s + st);
        var r2 = Avx.LoadVector256(s + 2 * st);
        var r3 = Avx.LoadVector256(s + 3 * st);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        Avx.Store(d, Avx.Permute2x128(t0, t2, 0x20));
        Avx.Store(d + dt, Avx.Permute2x128(t1, t3, 0x20));
        Avx.Store(d + 2 * dt, Avx.Permute2x128(t0, t2, 0x31));
        Avx.Store(d + 3 * dt, Avx.Permute2x128(t1, t3, 0x31));
    }
}
