using Loom.Autograd;
using Loom.Nn;

namespace Loom.Models;

/// <summary>
/// A model that reads a source sentence and writes its translation token by token: trained on pairs packed as
/// <see cref="SentencePairs"/>, decoded by greedy or beam search (<see cref="SequenceSearch"/>) through
/// <see cref="StartDecoding"/>.
/// </summary>
public interface ISequenceToSequence
{
    /// <summary>Token ids of the shared source and target vocabulary.</summary>
    int Vocab { get; }

    /// <summary>
    /// Encodes <paramref name="source"/> ids [B, S] (padded with 0 at the end) and returns a decoder of B · <paramref name="copies"/>
    /// rows, sentence b in rows b·copies … b·copies + copies − 1, to be fed bos first.
    /// </summary>
    IStepDecoder StartDecoding(Tensor source, int copies);
}

/// <summary>
/// How translation pairs reach a model through the shared trainer: one sample [2, L] Int64 holds the source ids (row
/// 0, ending with eos) and the decoder's input, bos then the target ids (row 1), each padded with 0 at the end; the
/// target [L] is the target ids then eos, padded with −100, which the loss ignores. A model trims a batch to its
/// longest row, so short batches cost what they hold.
/// </summary>
public static class SentencePairs
{
    public const int Pad = 0, Ignore = -100;

    /// <summary>The source [B, S] and decoder input [B, T] of a packed batch [B, 2, L], each cut to its longest row.</summary>
    public static (Tensor Source, Tensor TargetInput) Unpack(Tensor batch)
    {
        if (batch.Rank != 3 || batch.Shape[1] != 2 || batch.DType != DType.Int64)
            throw new ArgumentException($"translation models take Int64 sentence pairs [B, 2, L], got {batch.DType.Name()} {batch.Shape}");
        var source = batch.Select(1, 0);
        var target = batch.Select(1, 1);
        return (Trim(source), Trim(target));
    }

    /// <summary>Ids [B, T] cut after the last column that holds a token in any row (at least one column).</summary>
    public static Tensor Trim(Tensor ids)
    {
        int b = ids.Shape[0], t = ids.Shape[1], used = 1;
        var values = ids.Contiguous().ToArray<long>();
        for (int r = 0; r < b; r++)
            for (int j = t - 1; j >= used; j--)
                if (values[r * t + j] != Pad) { used = j + 1; break; }
        return used == t ? ids : ids.Narrow(1, 0, used);
    }
}

/// <summary>
/// The encoder–decoder transformer of "Attention Is All You Need" (Vaswani et al. 2017), pre-norm as most
/// implementations now train it: one embedding table shared by source, target and the output layer (a joint BPE
/// vocabulary makes the three-way tie possible, and it saves two V × d matrices a small corpus cannot fill), scaled by
/// √d, plus sinusoidal positions; <see cref="TransformerEncoder"/> and <see cref="TransformerDecoder"/> layers with
/// source padding masked, causal self-attention in the decoder, and a final LayerNorm on each side. Decoding reuses
/// keys and values through one <see cref="KeyValueCache"/>, reordered between beam-search steps.
/// </summary>
/// <remarks>Shapes: packed pairs [B, 2, L] (<see cref="SentencePairs"/>) → logits [B, T, V], T the batch's longest target.</remarks>
public sealed class TranslationTransformer : Module<Tensor, Tensor>, ISequenceToSequence
{
    private const int MaxPositions = 1024;
    private readonly Tensor _positions;

    public TranslationTransformer(int vocab, int dim = 256, int layers = 3, int heads = 4, double dropout = 0.1)
    {
        if (dim % heads != 0 || dim % 2 != 0) throw new ArgumentException($"translation transformer: the width {dim} must be even and divisible by the {heads} heads");
        (Vocab, Dim) = (vocab, dim);
        Embedding = RegisterModule("embedding", new Embedding(vocab, dim, paddingIdx: SentencePairs.Pad));
        // N(0, d^−½) as fairseq's: multiplied by √d the embeddings enter at unit scale, and as output weights they give
        // logits of unit scale from the final LayerNorm.
        using (new NoGrad())
        {
            Init.Normal(Embedding.Weight, 0, 1 / Math.Sqrt(dim));
            Init.Zeros(Embedding.Weight.Select(0, SentencePairs.Pad));
        }
        Drop = RegisterModule("drop", new Dropout(dropout));
        Encoder = RegisterModule("encoder", new TransformerEncoder(
            _ => new TransformerEncoderLayer(dim, heads, 4 * dim, dropout, "relu", batchFirst: true, normFirst: true), layers, new LayerNorm(dim)));
        Decoder = RegisterModule("decoder", new TransformerDecoder(
            _ => new TransformerDecoderLayer(dim, heads, 4 * dim, dropout, "relu", batchFirst: true, normFirst: true), layers, new LayerNorm(dim)));
        _positions = TransformerClassifier.Positions(MaxPositions, dim).To(DType.Float32);
    }

    public int Vocab { get; }
    public int Dim { get; }
    public Embedding Embedding { get; }
    public Dropout Drop { get; }
    public TransformerEncoder Encoder { get; }
    public TransformerDecoder Decoder { get; }

    protected override Tensor ForwardCore(Tensor input)
    {
        var (source, targetInput) = SentencePairs.Unpack(input);
        var (memory, padding) = Encode(source);
        return Decode(targetInput, memory, padding, null, 0);
    }

    /// <summary>The encoder's output [B, S, d] and the source padding mask [B, S] (true at padding).</summary>
    public (Tensor Memory, Tensor Padding) Encode(Tensor source)
    {
        var padding = source.Eq(SentencePairs.Pad);
        return (Encoder.Forward(Embed(source, 0), null, padding), padding);
    }

    /// <summary>Logits [B, T, V] of the tokens after <paramref name="targetInput"/> [B, T], which starts at position <paramref name="start"/> (cached before it).</summary>
    public Tensor Decode(Tensor targetInput, Tensor memory, Tensor padding, KeyValueCache? cache, int start)
    {
        var h = Decoder.Forward(Embed(targetInput, start), memory, memoryKeyPaddingMask: padding, tgtIsCausal: true, cache: cache);
        return Functional.Linear(h, Embedding.Weight);
    }

    private Tensor Embed(Tensor ids, int start)
    {
        int t = ids.Shape[1];
        if (start + t > MaxPositions) throw new ArgumentException($"translation transformer: {start + t} positions exceed the {MaxPositions} it encodes");
        return Drop.Forward(Embedding.Forward(ids).Mul(Math.Sqrt(Dim)).Add(_positions.Narrow(0, start, t)));
    }

    public IStepDecoder StartDecoding(Tensor source, int copies)
    {
        using var noGrad = new NoGrad();
        var (memory, padding) = Encode(SentencePairs.Trim(source));
        if (copies > 1)
        {
            var rows = Tensor.FromArray(Enumerable.Range(0, source.Shape[0] * copies).Select(r => (long)(r / copies)).ToArray());
            (memory, padding) = (memory.IndexSelect(0, rows), padding.IndexSelect(0, rows));
        }
        return new Stepper(this, memory, padding);
    }

    private sealed class Stepper(TranslationTransformer model, Tensor memory, Tensor padding) : IStepDecoder
    {
        private readonly KeyValueCache _cache = new();
        private int _position;

        public int Vocab => model.Vocab;

        public float[] Step(int[] tokens, int[]? parents)
        {
            using var noGrad = new NoGrad();
            using var scope = new Loom.Memory.MemoryScope();
            if (parents is not null && _position > 0) _cache.Reorder(Tensor.FromArray(parents.Select(p => (long)p).ToArray()));
            var ids = Tensor.FromArray(tokens.Select(t => (long)t).ToArray(), tokens.Length, 1);
            var logits = model.Decode(ids, memory, padding, _cache, _position++);
            return logits.Select(1, 0).LogSoftmax(-1).To(DType.Float32).ToArray<float>();
        }
    }
}
