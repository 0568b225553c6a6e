namespace Loom.Kernels;

// The blocked algorithm with op(A) packed once, ahead of time (see PackedGemmA): a layer's weights are the left
// operand of every call, and repacking them per call costs as much as the product when n is small (ResNet18's
// 512-channel 3×3 convolutions at 7×7: 9.4 MB of weights feed 49 columns each).
internal static unsafe partial class GemmDriver<T, TKernel>
{
    /// <summary>Depth of the blocks <see cref="RunPackedA"/> expects for depth k: the one <see cref="RunBlocked"/> cuts.</summary>
    public static int DepthBlock(int k) => BalancedBlock(k, Blocking.Kc, 1);

    /// <summary>
    /// Packs op(A) [m, k] whole into <paramref name="dst"/>: depth blocks of <paramref name="kc"/> (the last may be
    /// shorter), each ⌈m/MR⌉ panels of MR×kcCur, so block pc starts at ⌈m/MR⌉·MR·pc. The panels are exactly those
    /// <see cref="RunBlocked"/> packs per call, so a product from them has the same bits.
    /// </summary>
    public static void PackWholeA(bool transA, T* a, nint lda, int m, int k, int kc, T* dst)
    {
        int panels = (m + TKernel.MR - 1) / TKernel.MR;
        for (int pc = 0; pc < k; pc += kc)
        {
            int kcCur = Math.Min(kc, k - pc);
            T* src = transA ? a + pc * lda : a + pc;
            GemmPacking.PackA(transA, src, lda, m, kcCur, TKernel.MR, dst + (nint)panels * TKernel.MR * pc, 0, panels);
        }
    }

    /// <summary>
    /// C = alpha · A · op(B) + beta · C with A packed by <see cref="PackWholeA"/> at depth block <paramref name="kc"/>;
    /// <paramref name="p"/>.A is not read. Threads split C as <see cref="Run"/> does, each reading its rows' panels.
    /// </summary>
    public static void RunPackedA(in GemmProblem<T> p, T* packedA, int kc, int threads) => RunPrepacked(p, packedA, kc, threads, packedB: false);

    /// <summary>The depth loop of <see cref="RunBlocked"/> for rows starting at panel <paramref name="firstPanel"/> of a packed A of <paramref name="mPanels"/> panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlockedPackedA(in GemmProblem<T> p, T* packedA, int mPanels, int firstPanel, int kc)
    {
        for (int pc = 0; pc < p.K; pc += kc)
        {
            int kcCur = Math.Min(kc, p.K - pc);
            T* aPack = packedA + (nint)mPanels * TKernel.MR * pc + (nint)firstPanel * TKernel.MR * kcCur;
            ComputeColumns(p, new PackEachBlock(), aPack, 0, p.M, pc, kcCur, 0, p.N);
        }
    }
}
