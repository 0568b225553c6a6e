using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using Loom.Threading;

namespace Loom.Kernels;

/// <summary>Cache-block sizes, in elements: an mc×kc block of A (L3), a kc×nc block of B (L2).</summary>
internal readonly record struct GemmBlocking(int Mc, int Kc, int Nc);

/// <summary>
/// The blocked GEMM algorithm (Goto/BLIS), specialised per element type and micro-kernel.
/// </summary>
/// <remarks>
/// Loop nest, outermost first (row-major, so the vector dimension of the tile runs along n):
/// <code>
/// for ic in m step MC:                 A block, MC×KC, packed into MR-row panels, lives in L3 (shared by threads)
///   for pc in k step KC:
///     pack A[ic.., pc..]
///     for jc in n step NC:             B block, KC×NC, packed into NR-column panels, lives in this core's L2
///       pack B[pc.., jc..]
///       for ir in MC step MR:          one A panel (MR×KC) stays in L1 while...
///         for jr in NC step NR:        ...the B panels stream from L2 through the micro-kernel
///           C[ir.., jr..] (+)= A panel · B panel
///         after the last depth block: the epilogue (bias, activation) on the strip C[ir.., jc..]
/// </code>
/// Threads split the jc range (each packs its own B block into its own L2); A is packed once per block, also in
/// parallel. When n is too narrow to give every thread columns, threads take disjoint row ranges instead.
/// See docs/notes/gemm.md for how the sizes were measured.
/// </remarks>
internal static unsafe class GemmDriver<T, TKernel>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TKernel : IGemmMicroKernel<T>
{
    /// <summary>Block sizes; settable so the benchmark can sweep them.</summary>
    public static GemmBlocking Blocking = DefaultBlocking();

    private static GemmBlocking DefaultBlocking()
    {
        // B block KC×NC in about three quarters of a 1 MiB L2; A panel MR×KC well inside a 32 KiB L1.
        int kc = 384 * 4 / sizeof(T);
        return new GemmBlocking(Mc: 4096, Kc: kc, Nc: 512);
    }

    /// <summary>Runs the problem on up to <paramref name="threads"/> threads.</summary>
    public static void Run(in GemmProblem<T> p, int threads)
    {
        int mPanels = (p.M + TKernel.MR - 1) / TKernel.MR;
        int nPanels = (p.N + TKernel.NR - 1) / TKernel.NR;
        if (threads > 1 && nPanels < threads && mPanels > nPanels)
            RunSplitRows(p, mPanels);
        else
            RunBlocked(p, parallel: threads > 1);
    }

    /// <summary>The loop nest above; with <paramref name="parallel"/>, A packing and the jc range are shared out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlocked(in GemmProblem<T> p, bool parallel)
    {
        var blocking = Blocking;
        int mc = BalancedBlock(p.M, blocking.Mc, TKernel.MR);
        int kc = BalancedBlock(p.K, blocking.Kc, 1);
        int nPanels = (p.N + TKernel.NR - 1) / TKernel.NR;
        int packGrain = parallel ? 4 : int.MaxValue, computeGrain = parallel ? 1 : int.MaxValue; // MaxValue: stay on this thread
        T[] aArray = Rent(RoundUp(mc, TKernel.MR) * kc);
        try
        {
            fixed (T* aRaw = aArray)
            {
                var job = new BlockJob { P = p, APack = Align(aRaw) };
                for (job.Ic = 0; job.Ic < p.M; job.Ic += mc)
                {
                    job.Mc = Math.Min(mc, p.M - job.Ic);
                    for (job.Pc = 0; job.Pc < p.K; job.Pc += kc)
                    {
                        job.Kc = Math.Min(kc, p.K - job.Pc);
                        ParallelHelper.For((job.Mc + TKernel.MR - 1) / TKernel.MR, packGrain, job, static (j, first, end) =>
                            GemmPacking.PackA(j.P.TransA, j.P.AAt(j.Ic, j.Pc), j.P.Lda, j.Mc, j.Kc, TKernel.MR, j.APack, first, end));
                        ParallelHelper.For(nPanels, computeGrain, job, static (j, first, end) =>
                            ComputeColumns(j.P, j.APack, j.Ic, j.Mc, j.Pc, j.Kc, first * TKernel.NR, Math.Min(j.P.N, end * TKernel.NR)));
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(aArray);
        }
    }

    /// <summary>What the threads of one (ic, pc) block share: the problem, the packed A block and its position.</summary>
    private struct BlockJob
    {
        public GemmProblem<T> P;
        public T* APack;
        public int Ic, Mc, Pc, Kc;
    }

    private static void RunSplitRows(in GemmProblem<T> p, int mPanels) =>
        ParallelHelper.For(mPanels, 1, p, static (q, first, end) =>
            RunBlocked(q.Rows(first * TKernel.MR, Math.Min(q.M, end * TKernel.MR)), parallel: false));

    /// <summary>Columns [j0, j1) of the C block rows [ic, ic + mc), depth block [pc, pc + kc), with A already packed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ComputeColumns(in GemmProblem<T> p, T* aPack, int ic, int mc, int pc, int kc, int j0, int j1)
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int nc = BalancedBlock(j1 - j0, Blocking.Nc, nr);
        T beta = pc == 0 ? p.Beta : T.One; // later depth blocks accumulate onto the first
        T alpha = p.Alpha;
        bool epilogue = pc + kc >= p.K && !p.Epilogue.IsIdentity; // C is final after the last depth block
        T* edge = stackalloc T[mr * nr];
        T[] bArray = Rent(RoundUp(nc, nr) * kc);
        try
        {
            fixed (T* bRaw = bArray)
            {
                T* bPack = Align(bRaw);
                for (int jc = j0; jc < j1; jc += nc)
                {
                    int ncCur = Math.Min(nc, j1 - jc);
                    GemmPacking.PackB(p.TransB, p.BAt(pc, jc), p.Ldb, kc, ncCur, nr, bPack);
                    for (int ir = 0; ir < mc; ir += mr)
                    {
                        int rows = Math.Min(mr, mc - ir);
                        T* aPanel = aPack + (nint)ir * kc;
                        T* cRow = p.C + (ic + ir) * p.Ldc + jc;
                        for (int jr = 0; jr < ncCur; jr += nr)
                        {
                            int cols = Math.Min(nr, ncCur - jr);
                            T* bPanel = bPack + (nint)jr * kc;
                            if (rows == mr && cols == nr)
                                TKernel.Run(kc, aPanel, bPanel, cRow + jr, p.Ldc, alpha, beta);
                            else
                                EdgeTile(kc, aPanel, bPanel, cRow + jr, p.Ldc, rows, cols, alpha, beta, edge);
                        }
                        // This strip of C (rows × ncCur, a few KiB) was just written and is still in L1.
                        if (epilogue) GemmEpilogue.Apply(p.Epilogue, p.C, p.Ldc, ic + ir, ic + ir + rows, jc, jc + ncCur);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(bArray);
        }
    }

    /// <summary>A tile cut by the edge of C: run the full kernel into a scratch tile, then merge the valid part.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EdgeTile(nint kc, T* aPanel, T* bPanel, T* c, nint ldc, int rows, int cols, T alpha, T beta, T* scratch)
    {
        int nr = TKernel.NR;
        TKernel.Run(kc, aPanel, bPanel, scratch, nr, T.One, T.Zero);
        bool betaZero = T.IsZero(beta);
        for (int i = 0; i < rows; i++)
        {
            T* ci = c + i * ldc;
            T* si = scratch + i * nr;
            for (int j = 0; j < cols; j++)
                ci[j] = betaZero ? alpha * si[j] : alpha * si[j] + beta * ci[j];
        }
    }

    /// <summary>
    /// Splits `size` into equal blocks of at most `max` (rounded up to `multiple`), so that k = 500 with KC = 384
    /// runs as 2 × 250 rather than 384 + 116: a thin last block would pay the tile's load/store overhead for little work.
    /// </summary>
    private static int BalancedBlock(int size, int max, int multiple)
    {
        if (size <= 0) return multiple;
        int blocks = (size + max - 1) / max;
        return RoundUp((size + blocks - 1) / blocks, multiple);
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private const int AlignElements = 64; // enough slack to align to a 64-byte cache line for any T

    /// <summary>Pack buffers come from the shared pool, so repeated calls (a training loop) allocate nothing.</summary>
    private static T[] Rent(int length) => ArrayPool<T>.Shared.Rent(length + AlignElements);

    private static T* Align(T* raw) => (T*)(((nint)raw + 63) & ~(nint)63);
}
