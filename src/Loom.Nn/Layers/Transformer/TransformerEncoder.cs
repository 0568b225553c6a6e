namespace Loom.Nn;

/// <summary>
/// A stack of encoder layers, as <c>torch.nn.TransformerEncoder</c>: children <c>layers.0</c>, <c>layers.1</c>, …
/// and, when given, a final <c>norm</c> (pre-norm stacks need one).
/// </summary>
/// <remarks>Shapes: src [B, S, E] with batch-first layers, else [S, B, E] → the same shape.</remarks>
public sealed class TransformerEncoder : Module<Tensor, Tensor>
{
    /// <summary>
    /// Stacks <paramref name="numLayers"/> copies of <paramref name="encoderLayer"/>, as PyTorch does: every copy starts
    /// with the same weights, and the prototype itself is not part of the stack.
    /// </summary>
    public TransformerEncoder(TransformerEncoderLayer encoderLayer, int numLayers, Module<Tensor, Tensor>? norm = null)
        : this(_ => (encoderLayer ?? throw new ArgumentNullException(nameof(encoderLayer))).Copy(), numLayers, norm) { }

    /// <summary>Stacks the layers <paramref name="layerFactory"/> makes for indices 0…numLayers−1 (each initialised on its own).</summary>
    public TransformerEncoder(Func<int, TransformerEncoderLayer> layerFactory, int numLayers, Module<Tensor, Tensor>? norm = null)
    {
        Layers = RegisterModule("layers", TransformerStack.Layers(nameof(TransformerEncoder), layerFactory, numLayers));
        if (norm is not null) Norm = RegisterModule("norm", norm);
    }

    public ModuleList<TransformerEncoderLayer> Layers { get; }

    public Module<Tensor, Tensor>? Norm { get; }

    /// <summary>Runs every layer with the same masks, then the norm (and this module's hooks, with src as input).</summary>
    /// <param name="mask">[S, S] or [B·heads, S, S]: Bool (true = not allowed) or float.</param>
    /// <param name="srcKeyPaddingMask">[B, S]: true at padding positions.</param>
    /// <param name="isCausal">Mask later positions when <paramref name="mask"/> is null.</param>
    public Tensor Forward(Tensor src, Tensor? mask = null, Tensor? srcKeyPaddingMask = null, bool isCausal = false) =>
        RunWithHooks(src, x => Encode(x, mask, srcKeyPaddingMask, isCausal));

    protected override Tensor ForwardCore(Tensor input) => Encode(input, null, null, false);

    private Tensor Encode(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool isCausal)
    {
        foreach (var layer in Layers) x = layer.Forward(x, mask, keyPaddingMask, isCausal);
        return Norm is null ? x : Norm.Forward(x);
    }
}
