namespace Loom.Tests.Linear;

/// <summary>torch.matmul by its definition, in float64: vectors promoted, batches expanded, the reference GEMM per matrix.</summary>
internal static class MatmulOracle
{
    public static Tensor Matmul(Tensor a, Tensor b)
    {
        using var noGrad = new NoGrad();
        var a2 = a.Rank == 1 ? a.Unsqueeze(0) : a;
        var b2 = b.Rank == 1 ? b.Unsqueeze(1) : b;
        int m = a2.Shape[a2.Rank - 2], k = a2.Shape[a2.Rank - 1], n = b2.Shape[b2.Rank - 1];
        var batch = Shape.Broadcast(new Shape(a2.Shape.Dims[..^2]), new Shape(b2.Shape.Dims[..^2]), "oracle").ToArray();
        var ad = a2.Expand([.. batch, m, k]).ToArray<double>();
        var bd = b2.Expand([.. batch, k, n]).ToArray<double>();
        int count = new Shape(batch).Numel;
        var c = new double[count * m * n];
        for (int i = 0; i < count; i++)
            ReferenceGemm.Gemm(false, false, m, n, k, 1.0, ad.AsSpan(i * m * k, m * k), k, bd.AsSpan(i * k * n, k * n), n, 0.0,
                c.AsSpan(i * m * n, m * n), n);
        int[] shape = [.. batch];
        if (a.Rank > 1) shape = [.. shape, m];
        if (b.Rank > 1) shape = [.. shape, n];
        return Tensor.FromArray(c, shape.Length == 0 ? [] : shape).Reshape(shape);
    }
}
