using Loom.Autograd;

namespace Loom.Nn;

/// <summary>
/// A lookup table of <c>numEmbeddings</c> vectors of size <c>embeddingDim</c>, initialised N(0, 1) as PyTorch; the
/// padding row (if any) starts at zero and receives no gradient.
/// </summary>
/// <remarks>Shapes: indices [*] (Int32/Int64) → [*, embeddingDim].</remarks>
public sealed class Embedding : Module<Tensor, Tensor>
{
    /// <param name="maxNorm">Renormalise each looked-up row whose <paramref name="normType"/>-norm exceeds this, in place (PyTorch's max_norm).</param>
    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx = null, DType dtype = DType.Float32, Generator? generator = null,
        double? maxNorm = null, double normType = 2)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0) throw new ArgumentException($"Embedding: sizes must be positive, got {numEmbeddings}×{embeddingDim}");
        if (paddingIdx is int p && (p < -numEmbeddings || p >= numEmbeddings))
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), paddingIdx, $"padding index must be within [-{numEmbeddings}, {numEmbeddings})");
        (NumEmbeddings, EmbeddingDim, MaxNorm, NormType) = (numEmbeddings, embeddingDim, maxNorm, normType);
        PaddingIdx = paddingIdx is int q && q < 0 ? q + numEmbeddings : paddingIdx;
        var w = Tensor.Randn(new Shape(numEmbeddings, embeddingDim), generator, dtype);
        if (PaddingIdx is int pad) using (new NoGrad()) w.Select(0, pad).ZeroInPlace();
        Weight = RegisterParameter("weight", new Parameter(w))!;
    }

    public int NumEmbeddings { get; }
    public int EmbeddingDim { get; }
    public int? PaddingIdx { get; }
    public double? MaxNorm { get; }
    public double NormType { get; }
    public Parameter Weight { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.Embedding(input, Weight, PaddingIdx, MaxNorm, NormType);

    protected override string ExtraRepr() => $"{NumEmbeddings}, {EmbeddingDim}" + (PaddingIdx is int p ? $", padding_idx={p}" : "") +
        (MaxNorm is double m ? $", max_norm={m}" : "");
}
