namespace Loom;

/// <summary>
/// The last two dimensions of a tensor seen as a GEMM operand, with its batch dimensions aligned to a broadcast
/// batch shape. A row-major block is passed as stored (Trans false, Ld = row stride) and a transposed one as
/// Trans true (Ld = column stride), so <c>x.Transpose(-1, -2)</c> costs no copy; a broadcast (stride 0) batch
/// dimension simply reuses the same matrix. Other layouts (step-2 slices, expanded rows) are copied once.
/// </summary>
/// <param name="Source">The tensor whose storage holds the matrices.</param>
/// <param name="Offset">Storage index of element [0, 0] of the first matrix.</param>
/// <param name="Rows">Rows of op(X), the matrix as it enters the product.</param>
/// <param name="Cols">Columns of op(X).</param>
/// <param name="Trans">Whether op(X) is the transpose of the row-major block in storage.</param>
/// <param name="Ld">Distance in storage between consecutive rows of the stored block.</param>
/// <param name="BatchStrides">Storage step per index of each batch dimension; 0 where the operand is broadcast (or reduced into).</param>
internal readonly record struct MatrixOperand(Tensor Source, int Offset, int Rows, int Cols, bool Trans, int Ld, int[] BatchStrides)
{
    private int StoredRows => Trans ? Cols : Rows;

    private int StoredCols => Trans ? Rows : Cols;

    /// <summary>The transpose, as a flag: no data moves.</summary>
    public MatrixOperand Transposed => new(Source, Offset, Cols, Rows, !Trans, Ld, BatchStrides);

    /// <summary>
    /// Describes the matrices in the last two dimensions of <paramref name="t"/> (rank ≥ 2) for the batch shape
    /// <paramref name="batchShape"/>, to which t's leading dimensions broadcast (right-aligned).
    /// </summary>
    public static MatrixOperand Of(Tensor t, ReadOnlySpan<int> batchShape)
    {
        if (!TryLayout(t, out bool trans, out int ld))
        {
            // A copy made here serves only this product; the caller records autograd against the original tensor.
            using (new NoGrad()) t = t.Clone();
            TryLayout(t, out trans, out ld);
        }
        int tBatch = t.Rank - 2, lead = batchShape.Length - tBatch;
        int[] strides = batchShape.IsEmpty ? [] : new int[batchShape.Length];
        for (int i = 0; i < strides.Length; i++)
        {
            int j = i - lead;
            strides[i] = j < 0 || t.Shape[j] == 1 ? 0 : t.Strides[j];
        }
        int rows = t.Shape.Dims[^2], cols = t.Shape.Dims[^1];
        return new MatrixOperand(t, t.Offset, rows, cols, trans, ld, strides);
    }

    private static bool TryLayout(Tensor t, out bool trans, out int ld)
    {
        int r = t.Shape.Dims[^2], c = t.Shape.Dims[^1], sr = t.Strides[^2], sc = t.Strides[^1];
        trans = false;
        ld = Math.Max(c, 1);
        if (r == 0 || c == 0) return true;
        if (c == 1 || sc == 1)
        {
            ld = r == 1 ? c : sr;
            if (ld >= c) return true;
        }
        if (r == 1 || sr == 1)
        {
            trans = true;
            ld = c == 1 ? r : sc;
            if (ld >= r) return true;
        }
        return false;
    }

    /// <summary>
    /// C = op(A) · op(B) for every index of <paramref name="batchShape"/> (or C += … when <paramref name="accumulate"/>).
    /// C must describe a contiguous tensor that it fills entirely; where C is broadcast along a batch dimension (stride
    /// 0) the products of that dimension are summed into it, which is how gradients reduce over broadcast batches.
    /// </summary>
    public static void Multiply(MatrixOperand a, MatrixOperand b, MatrixOperand c, ReadOnlySpan<int> batchShape, bool accumulate)
    {
        if (a.Cols != b.Rows || a.Rows != c.Rows || b.Cols != c.Cols)
            throw new ArgumentException($"matmul: internal shape mismatch [{a.Rows}, {a.Cols}]·[{b.Rows}, {b.Cols}] into [{c.Rows}, {c.Cols}]");
        switch (c.Source.DType)
        {
            case DType.Float32: Multiply<float>(a, b, c, batchShape.ToArray(), accumulate); break;
            case DType.Float64: Multiply<double>(a, b, c, batchShape.ToArray(), accumulate); break;
            default: throw new NotSupportedException($"matmul: dtype {c.Source.DType.Name()} is not supported (float32 or float64 only)");
        }
    }

    /// <summary>
    /// C = op(A) · op(B) for single matrices (no batch), then C[i, j] += bias[j] and the activation on each block of C
    /// as the GEMM finishes it (see <see cref="Gemm.GemmBiasActivation{T}"/>). C, bias and <paramref name="activated"/>
    /// are contiguous; with <paramref name="activated"/>, C keeps the pre-activation values.
    /// </summary>
    public static void MultiplyBiasActivation(MatrixOperand a, MatrixOperand b, Tensor c, Tensor? bias, Activation activation, Tensor? activated)
    {
        switch (c.DType)
        {
            case DType.Float32: MultiplyBiasActivation<float>(a, b, c, bias, activation, activated); break;
            case DType.Float64: MultiplyBiasActivation<double>(a, b, c, bias, activation, activated); break;
            default: throw new NotSupportedException($"matmul: dtype {c.DType.Name()} is not supported (float32 or float64 only)");
        }
    }

    private static void MultiplyBiasActivation<T>(MatrixOperand a, MatrixOperand b, Tensor c, Tensor? bias, Activation activation, Tensor? activated)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int m = a.Rows, k = a.Cols, n = b.Cols;
        if (m == 0 || n == 0) return;
        // k == 0 is an empty sum (C = bias, activated): the operands are not read, and their spans may not exist.
        var aSpan = k == 0 ? default : a.Span(a.Source.Array<T>(), a.Offset, a.StoredRows);
        var bSpan = k == 0 ? default : b.Span(b.Source.Array<T>(), b.Offset, b.StoredRows);
        Gemm.GemmBiasActivation<T>(a.Trans, b.Trans, m, n, k, aSpan, a.Ld, bSpan, b.Ld, c.Data<T>(), n,
            bias is null ? default : bias.Data<T>(), activation, activated is null ? default : activated.Data<T>());
    }

    /// <summary>
    /// C = op(A) · op(B) (C += … when <paramref name="accumulate"/>) for single matrices with op(A) = Aᵀ, and
    /// <paramref name="columnSums"/>[i] += Σ_p A[p, i] over A as stored, with the bits of adding A's rows in order
    /// (see <see cref="Gemm.GemmTransposedAWithColumnSums{T}"/>). C and the sums are contiguous.
    /// </summary>
    public static void MultiplyWithColumnSums(MatrixOperand a, MatrixOperand b, MatrixOperand c, bool accumulate, Tensor columnSums)
    {
        if (!a.Trans || a.Cols != b.Rows || a.Rows != c.Rows || b.Cols != c.Cols || c.Trans || columnSums.Numel != a.Rows)
            throw new ArgumentException($"matmul: internal shape mismatch Aᵀ [{a.Rows}, {a.Cols}]·[{b.Rows}, {b.Cols}] into [{c.Rows}, {c.Cols}] with {columnSums.Numel} sums");
        switch (c.Source.DType)
        {
            case DType.Float32: MultiplyWithColumnSums<float>(a, b, c, accumulate, columnSums); break;
            case DType.Float64: MultiplyWithColumnSums<double>(a, b, c, accumulate, columnSums); break;
            default: throw new NotSupportedException($"matmul: dtype {c.Source.DType.Name()} is not supported (float32 or float64 only)");
        }
    }

    private static void MultiplyWithColumnSums<T>(MatrixOperand a, MatrixOperand b, MatrixOperand c, bool accumulate, Tensor columnSums)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int m = a.Rows, k = a.Cols, n = b.Cols;
        if (m == 0) return;
        var cSpan = c.Span(c.Source.Array<T>(), c.Offset, c.StoredRows);
        if (k == 0)
        {
            if (!accumulate) for (int i = 0; i < m; i++) cSpan.Slice(i * c.Ld, n).Clear();
            return;
        }
        Gemm.GemmTransposedAWithColumnSums<T>(b.Trans, m, n, k, T.One, a.Span(a.Source.Array<T>(), a.Offset, a.StoredRows), a.Ld,
            b.Span(b.Source.Array<T>(), b.Offset, b.StoredRows), b.Ld, accumulate ? T.One : T.Zero, cSpan, c.Ld, columnSums.Data<T>());
    }

    // Below this many flops a product stays on one thread: a parallel dispatch costs microseconds.
    internal const long ParallelFlops = 1 << 18;

    private static void Multiply<T>(MatrixOperand a, MatrixOperand b, MatrixOperand c, int[] batchShape, bool accumulate)
        where T : unmanaged
    {
        int m = a.Rows, k = a.Cols, n = b.Cols;
        int count = 1;
        foreach (var d in batchShape) count *= d;
        var aData = a.Source.Array<T>();
        var bData = b.Source.Array<T>();
        var cData = c.Source.Array<T>();
        if (count == 0 || m == 0 || n == 0 || k == 0)
        {
            if (!accumulate) c.Source.Data<T>().Clear();
            return;
        }

        bool reduces = false;
        for (int i = 0; i < batchShape.Length; i++) reduces |= c.BatchStrides[i] == 0 && batchShape[i] > 1;

        // One tall GEMM instead of `count` small ones when B is shared by the whole batch (x · W with x [B, T, C]):
        // the batch then only stacks rows of A and C.
        if (!reduces && !a.Trans && !c.Trans && b.IsBroadcast(batchShape)
            && a.Collapses(batchShape, m * a.Ld) && c.Collapses(batchShape, m * c.Ld))
        {
            int rows = count * m;
            TypedGemm.Run<T>(false, b.Trans, rows, n, k, a.Span(aData, a.Offset, rows), a.Ld,
                b.Span(bData, b.Offset, b.StoredRows), b.Ld, accumulate, c.Span(cData, c.Offset, rows), c.Ld);
            return;
        }

        // One GEMM with a long inner dimension when C is summed over the whole batch (the weight gradient Aᵀ · dC of
        // a shared B): the batch then stacks the inner dimension of both operands.
        if (reduces && c.IsBroadcast(batchShape) && a.Trans && !b.Trans
            && a.Collapses(batchShape, k * a.Ld) && b.Collapses(batchShape, k * b.Ld))
        {
            int inner = count * k;
            TypedGemm.Run<T>(true, false, m, n, inner, a.Span(aData, a.Offset, inner), a.Ld,
                b.Span(bData, b.Offset, inner), b.Ld, accumulate, c.Span(cData, c.Offset, m), c.Ld);
            return;
        }

        var aOffsets = a.BatchOffsets(batchShape);
        var bOffsets = b.BatchOffsets(batchShape);
        var cOffsets = c.BatchOffsets(batchShape);
        if (reduces)
        {
            // Several products land in the same C: sum them one after another (no race, no extra buffer).
            if (!accumulate) c.Source.Data<T>().Clear();
            for (int i = 0; i < count; i++)
                TypedGemm.Run<T>(a.Trans, b.Trans, m, n, k, a.Span(aData, aOffsets[i], a.StoredRows), a.Ld,
                    b.Span(bData, bOffsets[i], b.StoredRows), b.Ld, true, c.Span(cData, cOffsets[i], m), c.Ld);
            return;
        }

        MultiplyBatch<T>(a, b, c, aOffsets, bOffsets, cOffsets, accumulate);
    }

    // Its own method so that the closure of the parallel loop is allocated only when the batch takes this path
    // (a closure over Multiply's parameters would be built on entry to Multiply, on every path).
    private static void MultiplyBatch<T>(MatrixOperand a, MatrixOperand b, MatrixOperand c, int[] aOffsets, int[] bOffsets, int[] cOffsets, bool accumulate)
        where T : unmanaged
    {
        int m = a.Rows, k = a.Cols, n = b.Cols;
        var aData = a.Source.Array<T>();
        var bData = b.Source.Array<T>();
        var cData = c.Source.Array<T>();
        long flops = 2L * m * n * k;
        int grain = (int)Math.Clamp(ParallelFlops / Math.Max(1, flops), 1, int.MaxValue);
        ParallelHelper.For(aOffsets.Length, grain, (start, end) =>
        {
            for (int i = start; i < end; i++)
                TypedGemm.Run<T>(a.Trans, b.Trans, m, n, k, a.Span(aData, aOffsets[i], a.StoredRows), a.Ld,
                    b.Span(bData, bOffsets[i], b.StoredRows), b.Ld, accumulate, c.Span(cData, cOffsets[i], m), c.Ld);
        });
    }

    /// <summary>The storage a block of <paramref name="storedRows"/> stored rows occupies from <paramref name="offset"/>.</summary>
    private Span<T> Span<T>(T[] data, int offset, int storedRows) => data.AsSpan(offset, (storedRows - 1) * Ld + StoredCols);

    private bool IsBroadcast(int[] batchShape)
    {
        for (int i = 0; i < batchShape.Length; i++)
            if (BatchStrides[i] != 0 && batchShape[i] > 1) return false;
        return true;
    }

    /// <summary>Whether the batch dimensions continue the stored rows: matrix i starts <paramref name="matrixStride"/>·i after the first.</summary>
    private bool Collapses(int[] batchShape, int matrixStride)
    {
        long expected = matrixStride;
        for (int i = batchShape.Length - 1; i >= 0; i--)
        {
            if (batchShape[i] == 1) continue;
            if (BatchStrides[i] != expected) return false;
            expected *= batchShape[i];
        }
        return true;
    }

    private int[] BatchOffsets(int[] batchShape)
    {
        int count = 1;
        foreach (var d in batchShape) count *= d;
        var offsets = new int[count];
        StridedKernels.RowOffsets(Offset, [.. batchShape, 1], [.. BatchStrides, 0], offsets);
        return offsets;
    }
}
