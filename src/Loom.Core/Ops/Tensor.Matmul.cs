namespace Loom;

// Matrix products with torch.matmul semantics.
//   C[..., i, j] = Σ_p A[..., i, p] · B[..., p, j]; batch dimensions broadcast; a 1-D A is the row [1, k] and a 1-D B
//   the column [k, 1], and the added dimension is removed from the result (1-D · 1-D is the dot product).
//   dA = dC · Bᵀ and dB = Aᵀ · dC, each summed over the batch dimensions its operand was broadcast along.
// Transposed operands and broadcast batches reach GEMM as flags and strides, without copies (see MatrixOperand).
public partial class Tensor
{
    /// <summary>
    /// The matrix product of this tensor and <paramref name="other"/>, as <c>torch.matmul</c>: dot product for two
    /// vectors, matrix product for two matrices, batched with broadcasting for higher ranks.
    /// </summary>
    /// <remarks>Shapes: [..., m, k] · [..., k, n] → [broadcast(...), m, n].</remarks>
    public Tensor Matmul(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!DType.IsFloatingPoint() && DType == other.DType && DType != DType.Bool) return IntegerMatmul(other);
        var plan = MatmulPlan.Create(this, other);
        var a = plan.PromoteA(this);
        var b = plan.PromoteB(other);
        var result = Empty(Shape.Wrap([.. plan.Batch, plan.M, plan.N]), DType);
        MatrixOperand.Multiply(MatrixOperand.Of(a, plan.Batch), MatrixOperand.Of(b, plan.Batch),
            MatrixOperand.Of(result, plan.Batch), plan.Batch, accumulate: false);
        result = new Tensor(result.Storage, plan.ResultShape);
        return GradMode.ShouldRecord(this, other) ? new MatmulBackward(this, other, plan).Attach(result) : result;
    }

    /// <summary>
    /// Integer matmul (PyTorch has it on the CPU): Σ over k of the broadcast products, in int64 and wrapped back to the
    /// dtype, as integer overflow wraps in PyTorch. No GEMM: it materialises [..., m, k, n], which is fine for the index
    /// arithmetic integer matmul is used for.
    /// </summary>
    private Tensor IntegerMatmul(Tensor other)
    {
        if (Rank == 0 || other.Rank == 0)
            throw new ArgumentException($"matmul: both operands need at least one dimension (shapes {Shape} and {other.Shape})");
        int k = Shape[^1], kOther = other.Rank == 1 ? other.Shape[0] : other.Shape[^2];
        if (k != kOther)
            throw new ArgumentException($"matmul: shapes {Shape} and {other.Shape} cannot be multiplied ({k} and {kOther} differ)");
        var a = To(DType.Int64);
        var b = other.To(DType.Int64);
        Tensor product = (Rank, other.Rank) switch
        {
            (1, 1) => a.Mul(b).Sum(),
            (_, 1) => a.Mul(b).Sum(-1),
            (1, _) => a.Unsqueeze(-1).Mul(b).Sum(-2),
            _ => a.Unsqueeze(-1).Mul(b.Unsqueeze(-3)).Sum(-2),
        };
        return product.To(DType);
    }

    /// <summary>The shapes of one matmul: validated once in the forward, reused by the backward.</summary>
    private sealed record MatmulPlan(bool AIsVector, bool BIsVector, int[] Batch, int M, int K, int N, Shape ResultShape)
    {
        public static MatmulPlan Create(Tensor a, Tensor b)
        {
            if (a.DType != b.DType)
                throw new ArgumentException($"matmul: dtypes {a.DType.Name()} and {b.DType.Name()} differ (shapes {a.Shape} and {b.Shape}); convert one with To()");
            if (!a.DType.IsFloatingPoint())
                throw new NotSupportedException($"matmul: dtype {a.DType.Name()} is not supported (float32 or float64 only)");
            if (a.Rank == 0 || b.Rank == 0)
                throw new ArgumentException($"matmul: both arguments need at least one dimension, got shapes {a.Shape} and {b.Shape}");
            int m = a.Rank == 1 ? 1 : a.Shape.Dims[^2], k = a.Shape.Dims[^1];
            int kb = b.Rank == 1 ? b.Shape[0] : b.Shape.Dims[^2], n = b.Rank == 1 ? 1 : b.Shape.Dims[^1];
            if (k != kb)
                throw new ArgumentException($"matmul: shapes {a.Shape} and {b.Shape} are not aligned ({k} != {kb})");

            var aBatch = a.Rank > 2 ? a.Shape.Dims[..^2] : [];
            var bBatch = b.Rank > 2 ? b.Shape.Dims[..^2] : [];
            if (!Shape.TryBroadcast(aBatch, bBatch, out var batch, out var mismatch))
                throw new ArgumentException($"matmul: batch dimensions of shapes {a.Shape} and {b.Shape} cannot be broadcast together ({mismatch.A} vs {mismatch.B} at batch dimension {mismatch.Axis})");

            int[] result = [.. batch];
            if (a.Rank > 1) result = [.. result, m];
            if (b.Rank > 1) result = [.. result, n];
            return new MatmulPlan(a.Rank == 1, b.Rank == 1, batch, m, k, n, Shape.Wrap(result));
        }

        // A vector operand becomes a one-row (or one-column) matrix view, with no autograd history of its own.
        public Tensor PromoteA(Tensor a) => AIsVector ? a.ViewOf(Shape.Wrap([1, K]), [K * a._strides[0], a._strides[0]], a.Offset) : a;

        public Tensor PromoteB(Tensor b) => BIsVector ? b.ViewOf(Shape.Wrap([K, 1]), [b._strides[0], 1], b.Offset) : b;

        /// <summary>The output gradient seen with the result's promoted shape [batch…, m, n].</summary>
        public Tensor PromoteGrad(Tensor g)
        {
            if (AIsVector && BIsVector) return g.Reshape(1, 1);
            if (AIsVector) return g.Unsqueeze(-2);
            if (BIsVector) return g.Unsqueeze(-1);
            return g;
        }
    }

    private sealed class MatmulBackward : BackwardNode
    {
        private readonly SavedTensor? _a;
        private readonly SavedTensor? _b;
        private readonly Shape _aShape;
        private readonly Shape _bShape;
        private readonly MatmulPlan _plan;

        public MatmulBackward(Tensor a, Tensor b, MatmulPlan plan) : base("matmul", a, b)
        {
            _aShape = a.Shape;
            _bShape = b.Shape;
            _plan = plan;
            // dA reads only B and dB only A: keep what a needed gradient uses.
            if (NeedsGrad(0)) _b = Save(b);
            if (NeedsGrad(1)) _a = Save(a);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var batch = _plan.Batch;
            var g = MatrixOperand.Of(_plan.PromoteGrad(gradOutput), batch);
            Tensor? gradA = null, gradB = null;
            if (NeedsGrad(0))
            {
                var b = _plan.PromoteB(_b!.Value);
                gradA = Empty(PromotedShape(_aShape, _plan.AIsVector, row: true), b.DType);
                MatrixOperand.Multiply(g, MatrixOperand.Of(b, batch).Transposed, MatrixOperand.Of(gradA, batch), batch, accumulate: false);
                gradA = new Tensor(gradA.Storage, _aShape);
            }
            if (NeedsGrad(1))
            {
                var a = _plan.PromoteA(_a!.Value);
                gradB = Empty(PromotedShape(_bShape, _plan.BIsVector, row: false), a.DType);
                MatrixOperand.Multiply(MatrixOperand.Of(a, batch).Transposed, g, MatrixOperand.Of(gradB, batch), batch, accumulate: false);
                gradB = new Tensor(gradB.Storage, _bShape);
            }
            return [gradA, gradB];
        }

        private static Shape PromotedShape(Shape shape, bool isVector, bool row) =>
            !isVector ? shape : row ? Shape.Wrap([1, shape[0]]) : Shape.Wrap([shape[0], 1]);
    }
}
