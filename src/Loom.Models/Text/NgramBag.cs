namespace Loom.Models;

/// <summary>
/// fastText's classifier (Joulin et al. 2016): a bag of the text's distinct words and word bigrams (bigrams hashed
/// into buckets), each an embedding, averaged, then a linear layer. With naive-Bayes weights (Wang &amp; Manning 2012)
/// each n-gram's embedding is scaled by its log-count ratio between the two classes in the training texts, fixed, so
/// n-grams seen a few times in training still carry their evidence. Token ids [B, T] → logits [B, classes].
/// </summary>
/// <remarks>
/// Bigrams are hashed from the word ids rather than kept as a vocabulary of their own, so the model needs nothing but
/// the word vocabulary to read a text; in 2^18 buckets, most of the few ten thousand bigrams of a training set of
/// sentences have one of their own. Each n-gram counts once per text (binarised, as Wang &amp; Manning found best for sentiment).
/// </remarks>
public sealed class NgramBag : Module<Tensor, Tensor>
{
    private readonly Tensor? _ratios;

    /// <param name="ratios">[vocab + buckets] fixed weight of each n-gram (<see cref="NaiveBayesRatios"/>), or null for fastText's plain bag.</param>
    public NgramBag(int vocab, int classes, int dim = 10, int buckets = 1 << 18, double dropout = 0, Tensor? ratios = null)
    {
        if (buckets < 1) throw new ArgumentException($"ngram bag: buckets must be positive, got {buckets}");
        Vocab = vocab;
        Buckets = buckets;
        Embedding = RegisterModule("embedding", new Embedding(vocab + buckets, dim, paddingIdx: TextMasks.Pad));
        // fastText's U(−1/dim, 1/dim) start: the bag's mean then starts near zero whatever the text's length.
        using (new Loom.Autograd.NoGrad())
        {
            Init.Uniform(Embedding.Weight, -1.0 / dim, 1.0 / dim);
            Init.Zeros(Embedding.Weight.Select(0, TextMasks.Pad));
        }
        if (ratios is not null)
        {
            if (ratios.Rank != 1 || ratios.Shape[0] != vocab + buckets) throw new ArgumentException($"ngram bag: ratios must be [{vocab + buckets}], got {ratios.Shape}");
            // Persistent: the ratios are fitted on the training texts and belong to the trained model.
            _ratios = RegisterBuffer("ratios", ratios.To(DType.Float32).Reshape(vocab + buckets, 1));
        }
        Drop = RegisterModule("drop", new Dropout(dropout));
        Head = RegisterModule("head", new Linear(dim, classes));
    }

    public int Vocab { get; }

    public int Buckets { get; }

    public Embedding Embedding { get; }

    public Dropout Drop { get; }

    public Linear Head { get; }

    protected override Tensor ForwardCore(Tensor ids)
    {
        TextMasks.CheckIds(ids, "ngram bag");
        var (features, counts) = Features(ids, Vocab, Buckets);
        var x = Embedding.Forward(features); // [B, F, E], zero at padding
        if (_ratios is not null) x = x.Mul(Functional.Embedding(features, _ratios));
        var mean = x.Sum(1).Div(Tensor.FromArray(counts, counts.Length, 1).To(x.DType));
        return Head.Forward(Drop.Forward(mean));
    }

    /// <summary>
    /// Each text's distinct n-gram ids [B, F] (words as they are, bigrams at vocab + bucket), padded with 0, and
    /// how many each has (at least 1, so an empty text's mean is 0).
    /// </summary>
    public static (Tensor Features, double[] Counts) Features(Tensor ids, int vocab, int buckets)
    {
        int b = ids.Shape[0], t = ids.Shape[1];
        var values = ids.ToArray<long>();
        var rows = new List<long>[b];
        for (int r = 0; r < b; r++)
        {
            var seen = new HashSet<long>();
            var row = rows[r] = [];
            for (int i = 0; i < t && values[r * t + i] != TextMasks.Pad; i++)
            {
                long word = values[r * t + i];
                if (seen.Add(word)) row.Add(word);
                if (i + 1 < t && values[r * t + i + 1] is var next && next != TextMasks.Pad)
                {
                    long bigram = vocab + Bucket(word, next, buckets);
                    if (seen.Add(bigram)) row.Add(bigram);
                }
            }
        }
        int width = Math.Max(1, b == 0 ? 0 : rows.Max(r => r.Count));
        var flat = new long[b * width];
        var counts = new double[b];
        for (int r = 0; r < b; r++)
        {
            rows[r].CopyTo(flat, r * width);
            counts[r] = Math.Max(1, rows[r].Count);
        }
        return (Tensor.FromArray(flat, b, width), counts);
    }

    /// <summary>
    /// Wang &amp; Manning's log-count ratios log((p / ‖p‖₁) / (q / ‖q‖₁)) per n-gram, with p and q the numbers of
    /// texts of class 1 and of class 0 holding it plus <paramref name="alpha"/>, as magnitudes: |r|, so that the
    /// learned embeddings keep the sign and the ratio says how much an n-gram's evidence counts. Padding gets 0.
    /// </summary>
    public static Tensor NaiveBayesRatios(Tensor ids, Tensor labels, int vocab, int buckets, double alpha = 1)
    {
        var (features, _) = Features(ids, vocab, buckets);
        int b = features.Shape[0], f = features.Shape[1];
        var values = features.ToArray<long>();
        var classes = labels.ToArray<long>();
        if (classes.Any(c => c is not (0 or 1))) throw new ArgumentException("naive-Bayes n-gram weights need two classes");
        var p = new double[vocab + buckets];
        var q = new double[vocab + buckets];
        Array.Fill(p, alpha);
        Array.Fill(q, alpha);
        for (int r = 0; r < b; r++)
            for (int j = 0; j < f && values[r * f + j] != TextMasks.Pad; j++)
                (classes[r] == 1 ? p : q)[values[r * f + j]]++;
        double ps = p.Sum(), qs = q.Sum();
        var ratios = new double[p.Length];
        for (int i = 1; i < ratios.Length; i++) ratios[i] = Math.Abs(Math.Log(p[i] / ps / (q[i] / qs)));
        return Tensor.FromArray(ratios, ratios.Length);
    }

    // A bigram's bucket from its two word ids (a 64-bit mix, so that (a, b) and (b, a) land apart).
    private static long Bucket(long first, long second, int buckets)
    {
        ulong h = (ulong)first * 0x9E3779B97F4A7C15UL ^ ((ulong)second + 0x632BE59BD9B4E019UL) * 0xC2B2AE3D27D4EB4FUL;
        h ^= h >> 29;
        return (long)(h % (ulong)buckets);
    }
}
