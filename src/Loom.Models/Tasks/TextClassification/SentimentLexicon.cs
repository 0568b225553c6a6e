namespace Loom.Models;

/// <summary>
/// A lexicon sentiment scorer in the manner of VADER (Hutto &amp; Gilbert 2014), with VADER's own lexicon (7,517 words
/// and emoticons rated from −4 to +4; npm vader-sentiment 1.1.3, Apache-2.0, embedded): a text's score is the sum of
/// its words' valences, a word within three words after a negation ("not", "never", "isn't"…) counting −0.74 times,
/// and words before a "but" half and after it one and a half times. VADER's boosters, capitals and punctuation
/// emphasis are left out: they scale scores but rarely flip a sign, and the baseline only takes the sign.
/// </summary>
public sealed class SentimentLexicon
{
    private const double NegationScale = -0.74, BeforeBut = 0.5, AfterBut = 1.5;
    private const int NegationReach = 3;

    private static readonly HashSet<string> Negations = new(StringComparer.Ordinal)
    {
        "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "nowhere", "cannot", "without", "aint", "n't",
    };

    private readonly Dictionary<string, double> _valence;

    public SentimentLexicon(IReadOnlyDictionary<string, double> valence) => _valence = new Dictionary<string, double>(valence, StringComparer.Ordinal);

    private static SentimentLexicon? _vader;

    /// <summary>VADER's lexicon.</summary>
    public static SentimentLexicon Vader => _vader ??= Read(typeof(SentimentLexicon).Assembly.GetManifestResourceStream("Loom.Models.vader_lexicon.tsv")
        ?? throw new InvalidOperationException("the VADER lexicon resource is missing from Loom.Models"), "vader_lexicon.tsv");

    /// <summary>Words rated.</summary>
    public int Count => _valence.Count;

    /// <summary>The valence of <paramref name="word"/> (lower case), 0 when unrated.</summary>
    public double Valence(string word) => _valence.GetValueOrDefault(word);

    /// <summary>Reads lines of "token TAB valence" (VADER's file has further columns, ignored).</summary>
    public static SentimentLexicon Read(Stream stream, string name)
    {
        var valence = new Dictionary<string, double>(StringComparer.Ordinal);
        using var reader = new StreamReader(stream);
        int line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0) continue;
            var fields = text.Split('\t');
            if (fields.Length < 2 || !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                throw new InvalidDataException($"{name}: line {line}: expected a token, a tab and a valence");
            valence[fields[0]] = v;
        }
        return new SentimentLexicon(valence);
    }

    /// <summary>The text's sentiment: positive above 0, negative below, 0 when it holds no rated word.</summary>
    public double Score(string text)
    {
        var words = WordTokenizer.Split(text);
        int but = words.LastIndexOf("but");
        double score = 0;
        for (int i = 0; i < words.Count; i++)
        {
            double v = Valence(words[i]);
            if (v == 0) continue;
            for (int j = Math.Max(0, i - NegationReach); j < i; j++)
                if (IsNegation(words[j])) { v *= NegationScale; break; }
            if (but >= 0) v *= i < but ? BeforeBut : i > but ? AfterBut : 1;
            score += v;
        }
        return score;
    }

    private static bool IsNegation(string word) => Negations.Contains(word) || word.EndsWith("n't", StringComparison.Ordinal);
}

/// <summary>
/// The lexicon baseline of a two-class text task: a text goes to one class when its lexicon score is above a threshold,
/// else to the other. Which class is the positive one and the threshold are fitted on the training texts (the
/// threshold that classifies most of them right), since labels are only names ("1", "pos", "good") to Loom.
/// </summary>
public sealed class LexiconBaseline
{
    private LexiconBaseline(SentimentLexicon lexicon, int positive, double threshold) => (Lexicon, Positive, Threshold) = (lexicon, positive, threshold);

    public SentimentLexicon Lexicon { get; }

    /// <summary>The class (0 or 1) of texts scored above <see cref="Threshold"/>.</summary>
    public int Positive { get; }

    public double Threshold { get; }

    /// <summary>Fitted on <paramref name="texts"/> with classes 0 and 1 <paramref name="labels"/>.</summary>
    public static LexiconBaseline Fit(SentimentLexicon lexicon, IReadOnlyList<string> texts, IReadOnlyList<int> labels)
    {
        if (texts.Count != labels.Count || texts.Count == 0) throw new ArgumentException("the lexicon baseline needs as many labels as texts, and some");
        if (labels.Any(l => l is not (0 or 1))) throw new ArgumentException("the lexicon baseline takes two classes");
        var scores = texts.Select(lexicon.Score).ToArray();
        double Mean(int c) => scores.Where((_, i) => labels[i] == c).DefaultIfEmpty(0).Average();
        int positive = Mean(1) >= Mean(0) ? 1 : 0;
        // Candidate thresholds: midpoints between neighbouring distinct scores, and below all of them.
        var distinct = scores.Distinct().Order().ToArray();
        var candidates = new List<double> { distinct[0] - 1 };
        for (int i = 0; i + 1 < distinct.Length; i++) candidates.Add((distinct[i] + distinct[i + 1]) / 2);
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        // Sweep: with threshold below everything, every text is called positive; each step calls one more negative.
        int correct = labels.Count(l => l == positive), best = correct, k = 0;
        double bestThreshold = candidates[0];
        for (int c = 1; c < candidates.Count; c++)
        {
            while (k < order.Length && scores[order[k]] <= candidates[c]) correct += labels[order[k++]] == positive ? -1 : 1;
            if (correct > best) (best, bestThreshold) = (correct, candidates[c]);
        }
        return new LexiconBaseline(lexicon, positive, bestThreshold);
    }

    /// <summary>The class of <paramref name="text"/>.</summary>
    public int Predict(string text) => Lexicon.Score(text) > Threshold ? Positive : 1 - Positive;
}
