namespace Loom.Models;

/// <summary>
/// A classification head on fixed sentence embeddings [B, D] (unit vectors from a pretrained encoder): dropout, then
/// a linear layer, or with <c>hidden</c> &gt; 0 a hidden ReLU layer first. Embeddings → logits [B, classes].
/// </summary>
/// <remarks>
/// The inputs are scaled by √D first: a unit vector's components are about 1/√D (0.05 for MiniLM's 384), and at that
/// scale Adam's steps of about the learning rate would need many epochs to grow logits of a useful size.
/// </remarks>
public sealed class EmbeddingClassifier : Module<Tensor, Tensor>
{
    private readonly int _dim;

    public EmbeddingClassifier(int dim, int classes, int hidden = 0, double dropout = 0.1)
    {
        _dim = dim;
        Drop = RegisterModule("drop", new Dropout(dropout));
        Hidden = hidden > 0 ? RegisterModule("hidden", new Linear(dim, hidden)) : null;
        Head = RegisterModule("head", new Linear(hidden > 0 ? hidden : dim, classes));
    }

    public Dropout Drop { get; }

    /// <summary>The hidden layer; null for a linear head.</summary>
    public Linear? Hidden { get; }

    public Linear Head { get; }

    protected override Tensor ForwardCore(Tensor embeddings)
    {
        if (embeddings.Rank != 2 || embeddings.Shape[1] != _dim)
            throw new ArgumentException($"embedding classifier: inputs must be [B, {_dim}], got {embeddings.Shape}");
        var x = Drop.Forward(embeddings.Mul(Math.Sqrt(_dim)));
        if (Hidden is not null) x = Drop.Forward(Hidden.Forward(x).Relu());
        return Head.Forward(x);
    }
}
