using Loom.Onnx;

namespace Loom.Models;

/// <summary>
/// A pretrained BERT-style sentence encoder imported from ONNX (all-MiniLM-L6-v2, see <see cref="MiniLm"/>) with its
/// WordPiece tokenizer, pooled as sentence-transformers pools it: the mean of the last hidden states over the real
/// (unmasked) tokens, then scaled to unit length. Word-piece ids [B, T] (Int64, [CLS] … [SEP], padded with [PAD] = 0)
/// → embeddings [B, D]. The imported weights are parameters, so the encoder can be fine-tuned like any module.
/// </summary>
public sealed class SentenceEncoder : Module<Tensor, Tensor>
{
    /// <param name="fingerprint">Names this encoder's weights and vocabulary (a hash of its files), for caches of its embeddings.</param>
    public SentenceEncoder(OnnxModule encoder, WordPieceTokenizer tokenizer, int maxTokens, string fingerprint)
    {
        var names = encoder.Inputs.Select(i => i.Name).ToHashSet();
        if (!names.Contains("input_ids") || !names.Contains("attention_mask") || names.Except(["input_ids", "attention_mask", "token_type_ids"]).Any())
            throw new ArgumentException($"{encoder.Source}: a sentence encoder takes input_ids, attention_mask and optionally token_type_ids; this graph takes {string.Join(", ", names)}");
        if (tokenizer.Pad != TextMasks.Pad) throw new ArgumentException($"the encoder's vocabulary pads with id {tokenizer.Pad}; batches here pad with {TextMasks.Pad}");
        if (maxTokens < 3) throw new ArgumentException($"a window must hold [CLS], [SEP] and a word piece; got {maxTokens} tokens");
        Encoder = RegisterModule("encoder", encoder);
        Tokenizer = tokenizer;
        MaxTokens = maxTokens;
        Fingerprint = fingerprint;
        using (new NoGrad()) Dim = Forward(Tensor.FromArray(new long[] { tokenizer.Cls, tokenizer.Sep }, 1, 2)).Shape[1];
    }

    public OnnxModule Encoder { get; }

    public WordPieceTokenizer Tokenizer { get; }

    /// <summary>Word pieces of one window, [CLS] and [SEP] included; a longer text is read as several windows.</summary>
    public int MaxTokens { get; }

    /// <summary>Names the encoder's weights, vocabulary and window (a hash), for caches of its embeddings.</summary>
    public string Fingerprint { get; }

    /// <summary>Width of the embeddings.</summary>
    public int Dim { get; }

    protected override Tensor ForwardCore(Tensor ids)
    {
        TextMasks.CheckIds(ids, "sentence encoder");
        var mask = TextMasks.Padding(ids).LogicalNot();
        var inputs = new Dictionary<string, Tensor> { ["input_ids"] = ids, ["attention_mask"] = mask.To(DType.Int64) };
        if (Encoder.Inputs.Any(i => i.Name == "token_type_ids")) inputs["token_type_ids"] = Tensor.Zeros(ids.Shape, DType.Int64);
        var hidden = Encoder.Run(inputs)[Encoder.Outputs[0].Name]; // [B, T, D]
        var weights = mask.To(hidden.DType).Unsqueeze(2);
        var mean = hidden.Mul(weights).Sum(1).Div(weights.Sum(1).Clamp(min: 1e-9));
        // sentence-transformers' Normalize: x / max(‖x‖, 1e-12).
        return mean.Div(mean.Norm(2, 1, keepDim: true).Clamp(min: 1e-12));
    }

    /// <summary>
    /// The windows of <paramref name="text"/>: its word pieces cut into runs of <see cref="MaxTokens"/> − 2, each as
    /// [CLS] … [SEP] (an empty text is one window of just those two). Nothing of a long text is cut off.
    /// </summary>
    public List<int[]> Windows(string text)
    {
        var pieces = Tokenizer.Encode(text);
        int body = MaxTokens - 2;
        var windows = new List<int[]>();
        for (int start = 0; start < pieces.Length || windows.Count == 0; start += body)
        {
            int n = Math.Clamp(pieces.Length - start, 0, body);
            windows.Add([Tokenizer.Cls, .. pieces.AsSpan(start, n), Tokenizer.Sep]);
        }
        return windows;
    }

    /// <summary>
    /// Unit embeddings [N, D] (Float32) of <paramref name="texts"/>, without gradients. A text of several windows is
    /// the mean of its windows' embeddings weighted by their word pieces, scaled to unit length again, so a long
    /// review counts every part of it and short and long texts lie on the same sphere.
    /// </summary>
    /// <param name="progress">Called with (texts done, texts) after each batch.</param>
    public Tensor Embed(IReadOnlyList<string> texts, Action<int, int>? progress = null)
    {
        var windows = new List<(int Text, int[] Ids)>();
        for (int i = 0; i < texts.Count; i++)
            foreach (var w in Windows(texts[i])) windows.Add((i, w));
        // Batches of windows of about the same length carry little padding; a budget of tokens keeps the attention
        // scores (heads × T² per window) of long windows in bounds.
        var order = Enumerable.Range(0, windows.Count).OrderBy(k => windows[k].Ids.Length).ToArray();
        var sums = new double[texts.Count * Dim];
        var weights = new double[texts.Count];
        var remaining = new int[texts.Count];
        foreach (var (text, _) in windows) remaining[text]++;
        int done = 0;
        bool training = Training;
        Eval();
        try
        {
            using var noGrad = new NoGrad();
            for (int start = 0; start < order.Length;)
            {
                int end = start;
                while (end < order.Length && end - start < 64 && (end - start + 1) * windows[order[end]].Ids.Length <= 4096) end++;
                int width = windows[order[end - 1]].Ids.Length;
                var flat = new long[(end - start) * width];
                for (int r = start; r < end; r++)
                {
                    var ids = windows[order[r]].Ids;
                    for (int j = 0; j < ids.Length; j++) flat[(r - start) * width + j] = ids[j];
                }
                var embeddings = Forward(Tensor.FromArray(flat, end - start, width)).ToArray<float>();
                for (int r = start; r < end; r++)
                {
                    var (text, ids) = windows[order[r]];
                    // An empty text's one window has no word pieces; it still counts.
                    double weight = Math.Max(1, ids.Length - 2);
                    for (int d = 0; d < Dim; d++) sums[text * Dim + d] += weight * embeddings[(r - start) * Dim + d];
                    weights[text] += weight;
                    if (--remaining[text] == 0) done++;
                }
                progress?.Invoke(done, texts.Count);
                start = end;
            }
        }
        finally
        {
            if (training) Train();
        }
        var result = new float[sums.Length];
        for (int i = 0; i < texts.Count; i++)
        {
            var row = sums.AsSpan(i * Dim, Dim);
            double norm = 0;
            foreach (double v in row) norm += v * v;
            norm = Math.Sqrt(norm);
            for (int d = 0; d < Dim; d++) result[i * Dim + d] = norm > 0 ? (float)(row[d] / norm) : 0f;
        }
        return Tensor.FromArray(result, texts.Count, Dim);
    }
}
