namespace Loom.Kernels;

/// <summary>Cache-block sizes, in elements: an mc×kc block of A (L3), a kc×nc block of B (L2).</summary>
internal readonly record struct GemmBlocking(int Mc, int Kc, int Nc);

/// <summary>
/// How the threads of one GEMM share C out: a grid of <see cref="RowBlocks"/> × <see cref="ColumnBlocks"/> rectangles,
/// one per thread, cut at whole register panels (so an element lands in the same kind of tile, full or edge, whatever
/// the grid, and results do not depend on the thread count).
/// </summary>
/// <remarks>
/// Each thread packs the A rows and B columns its rectangle needs, so splitting rows in r blocks packs B r times and
/// splitting columns in c blocks packs A c times: the grid minimises c·m + r·n (times k) among those using the most
/// threads. With two threads that is rows when m ≥ n (the GPT's 1024-row products) and columns otherwise (the tied
/// logits over a 50257-word vocabulary).
/// </remarks>
internal readonly record struct ThreadGrid(int RowBlocks, int ColumnBlocks)
{
    public int Threads => RowBlocks * ColumnBlocks;

    public static ThreadGrid Choose(int threads, int m, int n, int mPanels, int nPanels)
    {
        var best = new ThreadGrid(1, 1);
        long bestCost = long.MaxValue;
        for (int r = 1; r <= Math.Min(threads, mPanels); r++)
        {
            int c = Math.Min(threads / r, nPanels);
            long cost = (long)c * m + (long)r * n;
            var grid = new ThreadGrid(r, c);
            if (grid.Threads > best.Threads || grid.Threads == best.Threads && cost <= bestCost)
            {
                best = grid;
                bestCost = cost;
            }
        }
        return best;
    }

    /// <summary>Register panels [first, end) of the rows that thread <paramref name="thread"/> computes.</summary>
    public (int First, int End) Rows(int thread, int mPanels) => Share(thread / ColumnBlocks, RowBlocks, mPanels);

    /// <summary>Register panels [first, end) of the columns that thread <paramref name="thread"/> computes.</summary>
    public (int First, int End) Columns(int thread, int nPanels) => Share(thread % ColumnBlocks, ColumnBlocks, nPanels);

    private static (int, int) Share(int block, int blocks, int panels) =>
        ((int)((long)panels * block / blocks), (int)((long)panels * (block + 1) / blocks));
}

/// <summary>
/// The blocked GEMM algorithm (Goto/BLIS), specialised per element type and micro-kernel.
/// </summary>
/// <remarks>
/// Loop nest, outermost first (row-major, so the vector dimension of the tile runs along n):
/// <code>
/// for ic in m step MC:                 A block, MC×KC, packed into MR-row panels, lives in L3
///   for pc in k step KC:
///     pack A[ic.., pc..]
///     for jc in n step NC:             B block, KC×NC, packed into NR-column panels, lives in this core's L2
///       pack B[pc.., jc..]
///       for ir in MC step MR:          one A panel (MR×KC) stays in L1 while...
///         for jr in NC step NR:        ...the B panels stream from L2 through the micro-kernel
///           C[ir.., jr..] (+)= A panel · B panel
///         after the last depth block: the epilogue (bias, activation) on the strip C[ir.., jc..]
/// </code>
/// A narrow product whose C outgrows L2 runs row blocks of C through every depth block instead, from B packed whole
/// (<see cref="RunInRowBlocksOfC"/>).
/// Threads do not share packed data: each takes a rectangle of C (<see cref="ThreadGrid"/>) and runs the whole loop
/// nest on it alone, packing its own A and B blocks. Packed blocks shared between cores cost more than packing them
/// twice (docs/notes/gemm.md, "Threads").
/// See docs/notes/gemm.md for how the sizes were measured.
/// </remarks>
internal static unsafe partial class GemmDriver<T, TKernel>
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
        var grid = ThreadGrid.Choose(threads, p.M, p.N, mPanels, nPanels);
        if (grid.Threads <= 1)
        {
            RunBlocked(p);
            return;
        }
        ParallelHelper.For(grid.Threads, 1, (Problem: p, Grid: grid, MPanels: mPanels, NPanels: nPanels), static (job, first, end) =>
        {
            if (first == 0 && end == job.Grid.Threads)
            {
                // Every rectangle on this thread: the pool was busy (a GEMM inside a parallel loop, as attention's
                // tiles are), so one pass over the whole of C packs each operand once instead of once per rectangle.
                RunBlocked(job.Problem);
                return;
            }
            for (int t = first; t < end; t++)
            {
                var (i0, i1) = job.Grid.Rows(t, job.MPanels);
                var (j0, j1) = job.Grid.Columns(t, job.NPanels);
                RunBlocked(job.Problem.Rows(i0 * TKernel.MR, Math.Min(job.Problem.M, i1 * TKernel.MR))
                    .Columns(j0 * TKernel.NR, Math.Min(job.Problem.N, j1 * TKernel.NR)));
            }
        });
    }

    /// <summary>The loop nest above, on the calling thread.</summary>
    private static void RunBlocked(in GemmProblem<T> p)
    {
        int kc = BalancedBlock(p.K, Blocking.Kc, 1);
        if (p.K > kc && p.N <= Blocking.Nc && (long)p.M * p.N * sizeof(T) > RowBlocksOfCAbove)
            RunInRowBlocksOfC(p, kc);
        else
            RunBlocked(p, new PackEachBlock(), kc, BalancedBlock(p.M, Blocking.Mc, TKernel.MR));
    }

    /// <summary>
    /// Bytes of C above which a narrow product with several depth blocks runs <see cref="RunInRowBlocksOfC"/>. The
    /// GPT 4L logits' weight gradient (C 4096 × 256, 4 MB) gained 11 % there; fc's (1024 × 256, 1 MB) lost 12 % with
    /// the cut at 600 KB: B re-read from L3 per row block cost more than the passes over a C that L2 half holds.
    /// </summary>
    private const long RowBlocksOfCAbove = 1_500_000;

    /// <summary>Bytes of C per row block in <see cref="RunInRowBlocksOfC"/>: 192 KiB beside a 350 KB B block and the A panels in a 1 MiB L2 (384 KiB gained nothing).</summary>
    private const int RowBlockOfCBytes = 192 * 1024;

    /// <summary>
    /// The loop nest with B (k × n, n ≤ NC) packed whole first and C's rows in blocks of ~192 KiB, each block run
    /// through every depth block while it stays in L2. Otherwise each depth block reads and writes all of C, from L3
    /// once C outgrows L2 (the GPT 4L logits' weight gradient: 4 MB of C, three depth blocks). The tiles and their
    /// order per element of C are those of the usual nest, so the bits are the same.
    /// </summary>
    private static void RunInRowBlocksOfC(in GemmProblem<T> p, int kc)
    {
        int nPanels = (p.N + TKernel.NR - 1) / TKernel.NR;
        int rows = Math.Max(TKernel.MR, RowBlockOfCBytes / (p.N * sizeof(T)));
        T[] bArray = Rent(nPanels * TKernel.NR * p.K);
        try
        {
            fixed (T* bRaw = bArray)
            {
                T* bPack = Align(bRaw);
                PackWholeB(p.TransB, p.B, p.Ldb, p.K, p.N, kc, bPack);
                RunBlocked(p, new Prepacked(bPack, nPanels, 0, wholeBlocks: true), kc, BalancedBlock(p.M, rows, TKernel.MR));
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(bArray);
        }
    }

    /// <summary>
    /// Where the kc×nc blocks of op(B) come from: packed as the loop reaches them (<see cref="PackEachBlock"/>), or
    /// from op(B) packed whole ahead of time (<see cref="Prepacked"/>). A struct, so each loop nest is specialised.
    /// </summary>
    private interface IBlocksOfB
    {
        /// <summary>Whether the blocks are packed per call, into a buffer the loop provides.</summary>
        bool PacksPerCall { get; }

        /// <summary>Columns per block, for the columns [0, n) of the rectangle.</summary>
        int ColumnBlock(int n);

        /// <summary>The packed block of depth [pc, pc + kc) and columns [jc, jc + nc): packed into <paramref name="buffer"/> now, or found.</summary>
        T* Block(in GemmProblem<T> p, int pc, int kc, int jc, int nc, T* buffer);
    }

    private readonly struct PackEachBlock : IBlocksOfB
    {
        public bool PacksPerCall => true;

        public int ColumnBlock(int n) => BalancedBlock(n, Blocking.Nc, TKernel.NR);

        public T* Block(in GemmProblem<T> p, int pc, int kc, int jc, int nc, T* buffer)
        {
            GemmPacking.PackB(p.TransB, p.BAt(pc, jc), p.Ldb, kc, nc, TKernel.NR, buffer);
            return buffer;
        }
    }

    /// <summary>
    /// op(B) packed by <see cref="PackWholeB"/> into <paramref name="panels"/> column panels; the rectangle's columns
    /// start at panel <paramref name="firstPanel"/>. One panel per block unless <paramref name="wholeBlocks"/>, so each
    /// B panel (from memory: a weight used for few rows) is read once per depth block and runs against every row
    /// panel of A while it is in cache.
    /// </summary>
    private readonly struct Prepacked(T* data, int panels, int firstPanel, bool wholeBlocks = false) : IBlocksOfB
    {
        public bool PacksPerCall => false;

        public int ColumnBlock(int n) => wholeBlocks ? BalancedBlock(n, Blocking.Nc, TKernel.NR) : TKernel.NR;

        public T* Block(in GemmProblem<T> p, int pc, int kc, int jc, int nc, T* buffer) =>
            data + (nint)panels * TKernel.NR * pc + ((nint)firstPanel * TKernel.NR + jc) * kc;
    }

    /// <summary>The loop nest above, on the calling thread, with depth blocks of <paramref name="kc"/> and B's blocks from <paramref name="b"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlocked<TB>(in GemmProblem<T> p, TB b, int kc, int mc) where TB : struct, IBlocksOfB
    {
        T[] aArray = Rent(RoundUp(mc, TKernel.MR) * kc);
        try
        {
            fixed (T* aRaw = aArray)
            {
                T* aPack = Align(aRaw);
                for (int ic = 0; ic < p.M; ic += mc)
                {
                    int mcCur = Math.Min(mc, p.M - ic);
                    for (int pc = 0; pc < p.K; pc += kc)
                    {
                        int kcCur = Math.Min(kc, p.K - pc);
                        GemmPacking.PackA(p.TransA, p.AAt(ic, pc), p.Lda, mcCur, kcCur, TKernel.MR, aPack, 0, (mcCur + TKernel.MR - 1) / TKernel.MR);
                        // The rows just packed are still in L2: a linear layer's bias gradient costs no pass over dy of its own.
                        if (p.RowSumsOfA != null) Gemm.AddToRowSumsOfA(p, ic, mcCur, pc, kcCur);
                        ComputeColumns(p, b, aPack, ic, mcCur, pc, kcCur, 0, p.N);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(aArray);
        }
    }

    /// <summary>Columns [j0, j1) of the C block rows [ic, ic + mc), depth block [pc, pc + kc), with A already packed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ComputeColumns<TB>(in GemmProblem<T> p, TB b, T* aPack, int ic, int mc, int pc, int kc, int j0, int j1)
        where TB : struct, IBlocksOfB
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int nc = b.ColumnBlock(j1 - j0);
        T beta = pc == 0 ? p.Beta : T.One; // later depth blocks accumulate onto the first
        T alpha = p.Alpha;
        bool epilogue = pc + kc >= p.K && !p.Epilogue.IsIdentity; // C is final after the last depth block
        T* edge = stackalloc T[mr * nr];
        T[]? bArray = b.PacksPerCall ? Rent(RoundUp(nc, nr) * kc) : null;
        try
        {
            fixed (T* bRaw = bArray)
            {
                T* bBuffer = b.PacksPerCall ? Align(bRaw) : null;
                for (int jc = j0; jc < j1; jc += nc)
                {
                    int ncCur = Math.Min(nc, j1 - jc);
                    T* bPack = b.Block(p, pc, kc, jc, ncCur, bBuffer);
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
                            else if (rows == 4 && cols == nr && TKernel.HasFourRowTile)
                                TKernel.RunFourRows(kc, aPanel, bPanel, cRow + jr, p.Ldc, alpha, beta);
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
            if (bArray != null) ArrayPool<T>.Shared.Return(bArray);
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
