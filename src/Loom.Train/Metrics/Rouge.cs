using System.Text.RegularExpressions;

namespace Loom.Train;

/// <summary>ROUGE-1, ROUGE-2 and ROUGE-L F-measures, each 0–100.</summary>
public readonly record struct RougeScores(double Rouge1, double Rouge2, double RougeL);

/// <summary>
/// ROUGE F-measures (Lin 2004) as Google's rouge-score package computes them without stemming: text lower-cased and cut
/// into runs of letters and digits (everything else separates words); ROUGE-N from n-gram overlaps clipped by the
/// counts on each side; ROUGE-L from the longest common subsequence of the two word sequences (sentence-level, not
/// "Lsum"); F = 2PR / (P + R), and 0 when either side has no words (an empty summary scores 0, never NaN). A corpus
/// score is the mean of the per-pair F-measures, scaled to 0–100.
/// </summary>
public static partial class Rouge
{
    /// <summary>Mean ROUGE-1/2/L F-measures of <paramref name="hypotheses"/> against one reference each.</summary>
    public static RougeScores Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references)
    {
        if (hypotheses.Count != references.Count)
            throw new ArgumentException($"ROUGE needs one reference per hypothesis: {hypotheses.Count} hypotheses, {references.Count} references");
        if (hypotheses.Count == 0) throw new ArgumentException("ROUGE of no summaries is undefined");
        double r1 = 0, r2 = 0, rl = 0;
        for (int i = 0; i < hypotheses.Count; i++)
        {
            var s = Score(hypotheses[i], references[i]);
            (r1, r2, rl) = (r1 + s.Rouge1, r2 + s.Rouge2, rl + s.RougeL);
        }
        return new RougeScores(r1 / hypotheses.Count, r2 / hypotheses.Count, rl / hypotheses.Count);
    }

    /// <summary>The F-measures (0–100) of one hypothesis against its reference.</summary>
    public static RougeScores Score(string hypothesis, string reference)
    {
        var h = Tokenize(hypothesis);
        var r = Tokenize(reference);
        return new RougeScores(100 * NGramF(h, r, 1), 100 * NGramF(h, r, 2), 100 * F(LongestCommonSubsequence(h, r), h.Length, r.Length));
    }

    /// <summary>The words ROUGE compares: lower-cased runs of letters and digits.</summary>
    public static string[] Tokenize(string text) => [.. Words().Matches(text.ToLowerInvariant()).Select(m => m.Value)];

    /// <summary>Length of the longest common subsequence of two word sequences (dynamic programming, one row kept).</summary>
    public static int LongestCommonSubsequence(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var row = new int[b.Count + 1];
        for (int i = 1; i <= a.Count; i++)
        {
            int diagonal = 0;
            for (int j = 1; j <= b.Count; j++)
            {
                int above = row[j];
                row[j] = a[i - 1] == b[j - 1] ? diagonal + 1 : Math.Max(row[j], row[j - 1]);
                diagonal = above;
            }
        }
        return row[b.Count];
    }

    private static double NGramF(string[] hypothesis, string[] reference, int n)
    {
        var hyp = NGrams.Count(hypothesis, n);
        var refs = NGrams.Count(reference, n);
        int overlap = hyp.Sum(kv => Math.Min(kv.Value, refs.GetValueOrDefault(kv.Key)));
        return F(overlap, Math.Max(0, hypothesis.Length - n + 1), Math.Max(0, reference.Length - n + 1));
    }

    private static double F(int overlap, int hypothesisCount, int referenceCount)
    {
        if (hypothesisCount == 0 || referenceCount == 0 || overlap == 0) return 0;
        double precision = (double)overlap / hypothesisCount, recall = (double)overlap / referenceCount;
        return 2 * precision * recall / (precision + recall);
    }

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex Words();
}
