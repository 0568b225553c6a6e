namespace Loom.Models;

/// <summary>
/// The attention LSTM of Luong et al. (2015), global attention with the "general" score: a bidirectional LSTM reads
/// the source (each sentence to its length), its final states, projected, start an LSTM decoder; at every target
/// position the decoder state h attends over the encoder outputs (score hᵀ W_a s, padding masked), and
/// h̃ = tanh(W_c [context; h]) gives the logits through the embedding table shared by source, target and output.
/// Without Luong's input feeding the decoder runs over a whole target sequence in one LSTM call, which is what makes
/// it trainable on two cores.
/// </summary>
/// <remarks>Shapes: packed pairs [B, 2, L] (<see cref="SentencePairs"/>) → logits [B, T, V], T the batch's longest target.</remarks>
public sealed class AttentionLstmTranslator : Module<Tensor, Tensor>, ISequenceToSequence
{
    public AttentionLstmTranslator(int vocab, int dim = 256, int layers = 1, double dropout = 0.1)
    {
        if (dim % 2 != 0) throw new ArgumentException($"attention LSTM: the width {dim} must be even (two encoder directions of {dim}/2)");
        (Vocab, Dim) = (vocab, dim);
        Embedding = RegisterModule("embedding", new Embedding(vocab, dim, paddingIdx: SentencePairs.Pad));
        using (new NoGrad())
        {
            Init.Normal(Embedding.Weight, 0, 1 / Math.Sqrt(dim));
            Init.Zeros(Embedding.Weight.Select(0, SentencePairs.Pad));
        }
        Drop = RegisterModule("drop", new Dropout(dropout));
        Encoder = RegisterModule("encoder", new LSTM(dim, dim / 2, layers, batchFirst: true, dropout: layers > 1 ? dropout : 0, bidirectional: true));
        Bridge = RegisterModule("bridge", new Linear(dim, 2 * dim));
        Decoder = RegisterModule("decoder", new LSTM(dim, dim, layers, batchFirst: true, dropout: layers > 1 ? dropout : 0));
        AttentionScore = RegisterModule("attention_score", new Linear(dim, dim, bias: false));
        Combine = RegisterModule("combine", new Linear(2 * dim, dim, bias: false));
    }

    public int Vocab { get; }
    public int Dim { get; }
    public Embedding Embedding { get; }
    public Dropout Drop { get; }
    public LSTM Encoder { get; }

    /// <summary>The encoder's final forward and backward states, concatenated, to the decoder's initial h and c.</summary>
    public Linear Bridge { get; }

    public LSTM Decoder { get; }

    /// <summary>W_a of the general score hᵀ W_a s.</summary>
    public Linear AttentionScore { get; }

    /// <summary>W_c of h̃ = tanh(W_c [context; h]).</summary>
    public Linear Combine { get; }

    protected override Tensor ForwardCore(Tensor input)
    {
        var (source, targetInput) = SentencePairs.Unpack(input);
        var encoded = Encode(source);
        var (output, _) = Decoder.Forward(Drop.Forward(Embedding.Forward(targetInput)), encoded.State);
        return Attend(output, encoded);
    }

    /// <summary>What decoding needs of a source batch: encoder outputs [B, S, d], padding [B, S, 1] (true at padding), keys W_a·s and the decoder's initial state.</summary>
    public sealed record Encoded(Tensor Memory, Tensor Padding, Tensor Keys, (Tensor H, Tensor C) State) : IEncodingRows<Encoded>
    {
        public Encoded Rows(Tensor rows) =>
            new(Memory.IndexSelect(0, rows), Padding.IndexSelect(0, rows), Keys.IndexSelect(0, rows), (State.H.IndexSelect(1, rows), State.C.IndexSelect(1, rows)));
    }

    public Encoded Encode(Tensor source)
    {
        var lengths = TextMasks.Lengths(source);
        var (memory, (h, _)) = Encoder.Forward(Drop.Forward(Embedding.Forward(source)), null, lengths);
        // h: [layers·2, B, d/2], directions interleaved per layer: each layer's forward and backward halves side by side.
        int layers = Decoder.NumLayers, b = source.Shape[0];
        var last = h.Reshape(layers, 2, b, Dim / 2).Permute(0, 2, 1, 3).Reshape(layers, b, Dim);
        var start = Bridge.Forward(last).Tanh().Split(Dim, axis: 2);
        return new Encoded(memory, source.Eq(SentencePairs.Pad).Unsqueeze(1), AttentionScore.Forward(memory), (start[0].Contiguous(), start[1].Contiguous()));
    }

    /// <summary>Logits [B, T, V] of decoder states [B, T, d] attending over the source.</summary>
    public Tensor Attend(Tensor states, Encoded encoded)
    {
        var scores = states.Matmul(encoded.Keys.Transpose(1, 2)).MaskedFill(encoded.Padding, double.NegativeInfinity); // [B, T, S]
        var context = scores.Softmax(-1).Matmul(encoded.Memory);
        var combined = Combine.Forward(Tensor.Cat([context, states], 2)).Tanh();
        return Functional.Linear(Drop.Forward(combined), Embedding.Weight);
    }

    public IStepDecoder StartDecoding(Tensor source, int copies) =>
        SequenceSearch.StartDecoding(source, copies, Encode, encoded => new Stepper(this, encoded));

    private sealed class Stepper(AttentionLstmTranslator model, Encoded encoded) : IStepDecoder
    {
        private (Tensor H, Tensor C) _state = encoded.State;

        public int Vocab => model.Vocab;

        public float[] Step(int[] tokens, int[]? parents)
        {
            using var noGrad = new NoGrad();
            if (parents is not null)
            {
                var rows = Tensor.FromArray(parents.Select(p => (long)p).ToArray());
                _state = (_state.H.IndexSelect(1, rows), _state.C.IndexSelect(1, rows));
            }
            var ids = Tensor.FromArray(tokens.Select(t => (long)t).ToArray(), tokens.Length, 1);
            var (output, state) = model.Decoder.Forward(model.Embedding.Forward(ids), _state);
            _state = state;
            return model.Attend(output, encoded).Select(1, 0).LogSoftmax(-1).To(DType.Float32).ToArray<float>();
        }
    }
}
