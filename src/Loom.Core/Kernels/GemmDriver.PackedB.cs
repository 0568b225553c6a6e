namespace Loom.Kernels;

// The blocked algorithm with op(B) packed once, ahead of time (see PackedGemmB): a layer's weight as the right operand
// of x · W, the form ONNX MatMul and a linear layer take. With few rows (a transformer at batch 1: 20–40 tokens) the
// per-call packing of B read and wrote the whole weight (2.4 MB for 384 → 1536) to use each element for 20 rows.
internal static unsafe partial class GemmDriver<T, TKernel>
{
    /// <summary>
    /// Packs op(B) [k, n] whole into <paramref name="dst"/>: depth blocks of <paramref name="kc"/> (the last may be
    /// shorter), each ⌈n/NR⌉ panels of kcCur×NR, so block pc starts at ⌈n/NR⌉·NR·pc. The panels are those
    /// <see cref="ComputeColumns"/> packs per call, so a product from them has the same bits.
    /// </summary>
    public static void PackWholeB(bool transB, T* b, nint ldb, int k, int n, int kc, T* dst)
    {
        int panels = (n + TKernel.NR - 1) / TKernel.NR;
        for (int pc = 0; pc < k; pc += kc)
        {
            int kcCur = Math.Min(kc, k - pc);
            T* src = transB ? b + pc : b + pc * ldb;
            GemmPacking.PackB(transB, src, ldb, kcCur, n, TKernel.NR, dst + (nint)panels * TKernel.NR * pc);
        }
    }

    /// <summary>
    /// C = alpha · op(A) · B + beta · C, then the epilogue, with B packed by <see cref="PackWholeB"/> at depth block
    /// <paramref name="kc"/>; <paramref name="p"/>.B is not read. Threads split C as <see cref="Run"/> does, each
    /// packing its own rows of A and reading its columns' panels of B.
    /// </summary>
    public static void RunPackedB(in GemmProblem<T> p, T* packedB, int kc, int threads) => RunPrepacked(p, packedB, kc, threads, packedB: true);

    /// <summary>
    /// <see cref="RunPackedA"/> or <see cref="RunPackedB"/>: the threads' rectangles of C (<see cref="ThreadGrid"/>),
    /// each run from the operand packed ahead of time, starting at its first row (A) or column (B) panel.
    /// </summary>
    private static void RunPrepacked(in GemmProblem<T> p, T* packed, int kc, int threads, bool packedB)
    {
        int mPanels = (p.M + TKernel.MR - 1) / TKernel.MR;
        int nPanels = (p.N + TKernel.NR - 1) / TKernel.NR;
        var grid = ThreadGrid.Choose(threads, p.M, p.N, mPanels, nPanels);
        if (grid.Threads <= 1)
        {
            RunRectangle(p, packed, kc, packedB, mPanels, nPanels, 0, 0);
            return;
        }
        ParallelHelper.For(grid.Threads, 1, (Problem: p, Grid: grid, MPanels: mPanels, NPanels: nPanels, Packed: (nint)packed, Kc: kc, PackedB: packedB),
            static (job, first, end) =>
            {
                for (int t = first; t < end; t++)
                {
                    var (i0, i1) = job.Grid.Rows(t, job.MPanels);
                    var (j0, j1) = job.Grid.Columns(t, job.NPanels);
                    var sub = job.Problem.Rows(i0 * TKernel.MR, Math.Min(job.Problem.M, i1 * TKernel.MR))
                        .Columns(j0 * TKernel.NR, Math.Min(job.Problem.N, j1 * TKernel.NR));
                    RunRectangle(sub, (T*)job.Packed, job.Kc, job.PackedB, job.MPanels, job.NPanels, i0, j0);
                }
            });
    }

    private static void RunRectangle(in GemmProblem<T> p, T* packed, int kc, bool packedB, int mPanels, int nPanels, int firstRowPanel, int firstColumnPanel)
    {
        if (packedB) RunBlocked(p, new Prepacked(packed, nPanels, firstColumnPanel), kc, BalancedBlock(p.M, Blocking.Mc, TKernel.MR));
        else RunBlockedPackedA(p, packed, mPanels, firstRowPanel, kc);
    }
}
