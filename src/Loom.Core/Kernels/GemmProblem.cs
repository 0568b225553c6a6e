namespace Loom.Kernels;

/// <summary>One GEMM call, C = alpha · op(A) · op(B) + beta · C, as raw row-major pointers (see <see cref="Gemm"/>).</summary>
internal unsafe struct GemmProblem<T> where T : unmanaged
{
    public bool TransA, TransB;
    public int M, N, K;
    public T Alpha, Beta;
    public T* A, B, C;
    public nint Lda, Ldb, Ldc;

    /// <summary>Bias and activation applied to C after the product (C = alpha · op(A) · op(B) + beta · C first).</summary>
    public GemmEpilogue<T> Epilogue;

    /// <summary>
    /// With op(A) = Aᵀ: RowSumsOfA[i] += Σ_p op(A)[i, p], added row p of the stored A at a time in order of p (a column
    /// sum of A as stored), by the thread that packs those rows; null: none.
    /// </summary>
    public T* RowSumsOfA;

    /// <summary>Pointer to op(A)[i, p].</summary>
    public readonly T* AAt(int i, int p) => TransA ? A + p * Lda + i : A + i * Lda + p;

    /// <summary>Pointer to op(B)[p, j].</summary>
    public readonly T* BAt(int p, int j) => TransB ? B + j * Ldb + p : B + p * Ldb + j;

    /// <summary>Matrix <paramref name="index"/> of a strided batch (batches carry no epilogue).</summary>
    public readonly GemmProblem<T> Batch(int index, int strideA, int strideB, int strideC)
    {
        var sub = this;
        sub.A = A + (nint)index * strideA;
        sub.B = B + (nint)index * strideB;
        sub.C = C + (nint)index * strideC;
        return sub;
    }

    /// <summary>The sub-problem computing rows [i0, i1) of C.</summary>
    public readonly GemmProblem<T> Rows(int i0, int i1)
    {
        var sub = this;
        sub.M = i1 - i0;
        sub.A = AAt(i0, 0);
        sub.C = C + i0 * Ldc;
        if (Epilogue.Activated != null) sub.Epilogue.Activated = Epilogue.Activated + i0 * Ldc;
        if (RowSumsOfA != null) sub.RowSumsOfA = RowSumsOfA + i0;
        return sub;
    }

    /// <summary>The sub-problem computing columns [j0, j1) of C.</summary>
    public readonly GemmProblem<T> Columns(int j0, int j1)
    {
        var sub = this;
        sub.N = j1 - j0;
        sub.B = BAt(0, j0);
        sub.C = C + j0;
        if (Epilogue.Bias != null) sub.Epilogue.Bias = Epilogue.Bias + j0;
        if (Epilogue.Activated != null) sub.Epilogue.Activated = Epilogue.Activated + j0;
        if (j0 > 0) sub.RowSumsOfA = null; // the rectangle holding the first columns sums these rows of A
        return sub;
    }
}
