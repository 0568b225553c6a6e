using Loom.Memory;

namespace Loom.Models;

/// <summary>
/// Pointer-generator copying (See et al. 2017) for a <see cref="Seq2SeqTransformer"/>: the output mixes the vocabulary
/// distribution with the copy attention over the source, P(w) = p_gen · P_vocab(w) + (1 − p_gen) · Σ_{i: x_i = w} a_i.
/// <see cref="ExtendedIds"/> ids after the vocabulary name a source's out-of-vocabulary words (the data gives the k-th
/// distinct one id V + k), so a word the vocabulary lacks can still be written by copying it; the encoder and decoder
/// read those ids as <see cref="Unknown"/>.
/// </summary>
public sealed record CopyMechanism(int ExtendedIds = 0, int Unknown = 0);

/// <summary>
/// The encoder–decoder transformer of "Attention Is All You Need" (Vaswani et al. 2017), pre-norm as most
/// implementations now train it, for translation and summarisation alike: one embedding table shared by source,
/// target and the output layer (a joint vocabulary makes the three-way tie possible, and it saves two V × d matrices
/// a small corpus cannot fill), scaled by √d, plus sinusoidal positions; <see cref="TransformerEncoder"/> and
/// <see cref="TransformerDecoder"/> layers with source padding masked, causal self-attention in the decoder, and a final
/// LayerNorm on each side. With a <see cref="CopyMechanism"/> it is a pointer-generator and returns log-probabilities
/// over the vocabulary and the extended ids instead of logits (cross-entropy of log-probabilities is their negative
/// log-likelihood, so the same loss trains both). Decoding reuses keys and values through one
/// <see cref="KeyValueCache"/>, reordered between beam-search steps.
/// </summary>
/// <remarks>Shapes: packed pairs [B, 2, L] (<see cref="SentencePairs"/>) → logits [B, T, V] (V + extended ids with copying), T the batch's longest target.</remarks>
public sealed class Seq2SeqTransformer : Module<Tensor, Tensor>, ISequenceToSequence
{
    private const int MaxPositions = 1024;

    // Added to the mixed probability before its log: a word neither in the vocabulary nor in the source has probability 0.
    private const double Floor = 1e-9;

    private readonly Tensor _positions;

    public Seq2SeqTransformer(int vocab, int dim = 256, int layers = 3, int heads = 4, double dropout = 0.1, string activation = "relu", CopyMechanism? copy = null)
    {
        if (dim % heads != 0 || dim % 2 != 0) throw new ArgumentException($"seq2seq transformer: the width {dim} must be even and divisible by the {heads} heads");
        if (copy is { ExtendedIds: < 0 } || (copy is not null && (copy.Unknown < 0 || copy.Unknown >= vocab)))
            throw new ArgumentException($"seq2seq transformer: copying needs ≥ 0 extended ids and an unknown-word id below {vocab}, got {copy}");
        (Vocab, Dim, Copy) = (vocab, dim, copy);
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
            _ => new TransformerEncoderLayer(dim, heads, 4 * dim, dropout, activation, batchFirst: true, normFirst: true), layers, new LayerNorm(dim)));
        Decoder = RegisterModule("decoder", new TransformerDecoder(
            _ => new TransformerDecoderLayer(dim, heads, 4 * dim, dropout, activation, batchFirst: true, normFirst: true), layers, new LayerNorm(dim)));
        if (copy is not null)
        {
            CopyQuery = RegisterModule("copy_query", new Linear(dim, dim, bias: false));
            CopyKey = RegisterModule("copy_key", new Linear(dim, dim, bias: false));
            CopyGate = RegisterModule("copy_gate", new Linear(3 * dim, 1));
        }
        _positions = TransformerClassifier.Positions(MaxPositions, dim).To(DType.Float32);
    }

    /// <summary>Token ids of the vocabulary (without the extended ids of copying).</summary>
    public int Vocab { get; }

    /// <summary>Columns of the output: the vocabulary, then the extended ids of copying.</summary>
    public int Outputs => Vocab + (Copy?.ExtendedIds ?? 0);

    public int Dim { get; }

    /// <summary>The pointer-generator's settings; null for plain attention.</summary>
    public CopyMechanism? Copy { get; }

    public Embedding Embedding { get; }
    public Dropout Drop { get; }
    public TransformerEncoder Encoder { get; }
    public TransformerDecoder Decoder { get; }

    /// <summary>With copying: the query and key projections of the copy attention, and the gate p_gen = σ(w·[h; context; x] + b).</summary>
    public Linear? CopyQuery { get; }
    public Linear? CopyKey { get; }
    public Linear? CopyGate { get; }

    protected override Tensor ForwardCore(Tensor input)
    {
        var (source, targetInput) = SentencePairs.Unpack(input);
        return Decode(targetInput, Encode(source), null, 0);
    }

    /// <summary>
    /// What decoding needs of a source batch: the encoder's output [B, S, d], the padding mask [B, S] (true at
    /// padding), the source ids as given (extended ids included) and, with copying, the copy attention's keys [B, S, d].
    /// </summary>
    public sealed record Encoding(Tensor Memory, Tensor Padding, Tensor SourceIds, Tensor? CopyKeys) : IEncodingRows<Encoding>
    {
        /// <summary>Row i is the old row <paramref name="rows"/>[i]: one copy per hypothesis of beam search.</summary>
        public Encoding Rows(Tensor rows) =>
            new(Memory.IndexSelect(0, rows), Padding.IndexSelect(0, rows), SourceIds.IndexSelect(0, rows), CopyKeys?.IndexSelect(0, rows));
    }

    /// <summary>Encodes source ids [B, S] (padded with 0; extended ids read as the unknown word).</summary>
    public Encoding Encode(Tensor source)
    {
        var padding = source.Eq(SentencePairs.Pad);
        var memory = Encoder.Forward(Embed(source, 0), null, padding);
        return new Encoding(memory, padding, source, CopyKey?.Forward(memory));
    }

    /// <summary>
    /// Scores [B, T, <see cref="Outputs"/>] of the tokens after <paramref name="targetInput"/> [B, T], which starts at
    /// position <paramref name="start"/> (cached before it): logits, or log-probabilities with copying.
    /// </summary>
    public Tensor Decode(Tensor targetInput, Encoding source, KeyValueCache? cache, int start)
    {
        var x = Embed(targetInput, start);
        var h = Decoder.Forward(x, source.Memory, memoryKeyPaddingMask: source.Padding, tgtIsCausal: true, cache: cache);
        if (Copy is null) return Functional.Linear(h, Embedding.Weight);
        return PointerGenerator(h, x, source.Memory, source.CopyKeys!, source.Padding, source.SourceIds, Embedding.Weight,
            CopyQuery!.Weight, CopyGate!.Weight, CopyGate.Bias!, Outputs);
    }

    /// <summary>
    /// The pointer-generator's log-probabilities [B, T, outputs] for decoder states <paramref name="h"/> [B, T, d] and
    /// inputs <paramref name="x"/> [B, T, d]: copy attention a = softmax(q·kᵀ/√d) over the unpadded source (q = h·W_qᵀ),
    /// context c = a·memory, p_gen = σ(w·[h; c; x] + b), and p_gen · softmax(h·Eᵀ) (zero on the extended ids) plus
    /// (1 − p_gen) · a scattered onto the source ids. Static so that it can be checked in float64.
    /// </summary>
    public static Tensor PointerGenerator(Tensor h, Tensor x, Tensor memory, Tensor keys, Tensor padding, Tensor sourceIds,
        Tensor embedding, Tensor queryWeight, Tensor gateWeight, Tensor gateBias, int outputs)
    {
        int b = h.Shape[0], t = h.Shape[1], s = memory.Shape[1], vocab = embedding.Shape[0];
        var query = Functional.Linear(h, queryWeight);
        var scores = query.Matmul(keys.Transpose(1, 2)).Mul(1 / Math.Sqrt(h.Shape[2]));
        var attention = scores.MaskedFill(padding.Unsqueeze(1), double.NegativeInfinity).Softmax(-1); // [B, T, S]
        var context = attention.Matmul(memory);
        var gate = Functional.Linear(Tensor.Cat([h, context, x], 2), gateWeight, gateBias).Sigmoid(); // [B, T, 1]
        var generated = Functional.Linear(h, embedding).Softmax(-1);
        if (outputs > vocab) generated = Tensor.Cat([generated, Tensor.Zeros(new Shape(b, t, outputs - vocab), h.DType)], 2);
        var index = sourceIds.Unsqueeze(1).Expand(b, t, s).Contiguous();
        // The copy mass is scattered straight into the gated vocabulary distribution: [B, T, outputs] is the largest
        // tensor here, and a separate copy distribution of that size would cost two more passes over it.
        return generated.Mul(gate).ScatterAdd(2, index, attention.Mul(gate.Neg().Add(1))).Add(Floor).Log();
    }

    private Tensor Embed(Tensor ids, int start)
    {
        int t = ids.Shape[1];
        if (start + t > MaxPositions) throw new ArgumentException($"seq2seq transformer: {start + t} positions exceed the {MaxPositions} it encodes");
        if (Copy is not null) ids = ids.MaskedFill(ids.Ge(Vocab), Copy.Unknown);
        return Drop.Forward(Embedding.Forward(ids).Mul(Math.Sqrt(Dim)).Add(_positions.Narrow(0, start, t)));
    }

    public IStepDecoder StartDecoding(Tensor source, int copies) =>
        SequenceSearch.StartDecoding(source, copies, Encode, encoding => new Stepper(this, encoding));

    private sealed class Stepper(Seq2SeqTransformer model, Encoding source) : IStepDecoder
    {
        private readonly KeyValueCache _cache = new();
        private int _position;

        public int Vocab => model.Outputs;

        public float[] Step(int[] tokens, int[]? parents)
        {
            using var noGrad = new NoGrad();
            using var scope = new MemoryScope();
            if (parents is not null && _position > 0) _cache.Reorder(Tensor.FromArray(parents.Select(p => (long)p).ToArray()));
            var ids = Tensor.FromArray(tokens.Select(t => (long)t).ToArray(), tokens.Length, 1);
            var scores = model.Decode(ids, source, _cache, _position++);
            // Log-probabilities from copying are normalised up to the floor; plain logits need the softmax.
            return (model.Copy is null ? scores.Select(1, 0).LogSoftmax(-1) : scores.Select(1, 0)).To(DType.Float32).ToArray<float>();
        }
    }
}
