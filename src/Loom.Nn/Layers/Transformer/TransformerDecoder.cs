namespace Loom.Nn;

/// <summary>
/// A stack of decoder layers, as <c>torch.nn.TransformerDecoder</c>: children <c>layers.0</c>, <c>layers.1</c>, …
/// and, when given, a final <c>norm</c>. Decodes incrementally with a <see cref="KeyValueCache"/>.
/// </summary>
/// <remarks>Shapes: tgt [B, T, E] and memory [B, S, E] with batch-first layers, else [T, B, E] and [S, B, E] → tgt's shape.</remarks>
public sealed class TransformerDecoder : Module
{
    /// <summary>
    /// Stacks <paramref name="numLayers"/> copies of <paramref name="decoderLayer"/>, as PyTorch does: every copy starts
    /// with the same weights, and the prototype itself is not part of the stack.
    /// </summary>
    public TransformerDecoder(TransformerDecoderLayer decoderLayer, int numLayers, Module<Tensor, Tensor>? norm = null)
        : this(_ => (decoderLayer ?? throw new ArgumentNullException(nameof(decoderLayer))).Copy(), numLayers, norm) { }

    /// <summary>Stacks the layers <paramref name="layerFactory"/> makes for indices 0…numLayers−1 (each initialised on its own).</summary>
    public TransformerDecoder(Func<int, TransformerDecoderLayer> layerFactory, int numLayers, Module<Tensor, Tensor>? norm = null)
    {
        Layers = RegisterModule("layers", TransformerStack.Layers(nameof(TransformerDecoder), layerFactory, numLayers));
        if (norm is not null) Norm = RegisterModule("norm", norm);
    }

    public ModuleList<TransformerDecoderLayer> Layers { get; }

    public Module<Tensor, Tensor>? Norm { get; }

    /// <summary>
    /// Runs every layer with the same memory and masks, then the norm (and this module's hooks, with tgt as input).
    /// See <see cref="TransformerDecoderLayer.Forward"/> for the masks and the cache.
    /// </summary>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false, bool memoryIsCausal = false, KeyValueCache? cache = null)
    {
        return RunWithHooks(tgt, x =>
        {
            foreach (var layer in Layers)
                x = layer.Forward(x, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal, memoryIsCausal, cache);
            return Norm is null ? x : Norm.Forward(x);
        });
    }
}
