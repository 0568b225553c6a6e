using System.Text.RegularExpressions;

namespace Loom.Train;

/// <summary>
/// Corpus BLEU as sacreBLEU computes it by default (Post 2018): mteval-v13a tokenisation, case kept, n-grams up to 4,
/// one reference per hypothesis, n-gram matches clipped by the reference's counts and pooled over the corpus, the
/// brevity penalty exp(1 − r/c) when the hypotheses are shorter than the references, and sacreBLEU's default "exp"
/// smoothing (the k-th n-gram order without a match counts as 1/(2^k · total)). An order with no n-grams in the
/// hypotheses at all (every hypothesis shorter than n words) makes the score 0, as in sacreBLEU. Scores are 0–100.
/// </summary>
public static partial class Bleu
{
    public const int MaxOrder = 4;

    /// <summary>The corpus score of <paramref name="hypotheses"/> against one reference each.</summary>
    public static double Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references) => Statistics(hypotheses, references).Score;

    /// <summary>The counts behind the score: clipped matches and totals per order, hypothesis and reference lengths.</summary>
    public static BleuStatistics Statistics(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references)
    {
        if (hypotheses.Count != references.Count)
            throw new ArgumentException($"BLEU needs one reference per hypothesis: {hypotheses.Count} hypotheses, {references.Count} references");
        var matches = new long[MaxOrder];
        var totals = new long[MaxOrder];
        long hypothesisLength = 0, referenceLength = 0;
        for (int s = 0; s < hypotheses.Count; s++)
        {
            var hyp = Tokenize13a(hypotheses[s]);
            var reference = Tokenize13a(references[s]);
            hypothesisLength += hyp.Length;
            referenceLength += reference.Length;
            for (int n = 1; n <= MaxOrder; n++)
            {
                var referenceCounts = NGrams.Count(reference, n);
                foreach (var (gram, count) in NGrams.Count(hyp, n))
                {
                    totals[n - 1] += count;
                    matches[n - 1] += Math.Min(count, referenceCounts.GetValueOrDefault(gram));
                }
            }
        }
        return new BleuStatistics(matches, totals, hypothesisLength, referenceLength);
    }

    /// <summary>mteval-v13a tokenisation as sacreBLEU's "13a": punctuation split off, except '.' and ',' inside numbers, apostrophes and hyphens between letters.</summary>
    public static string[] Tokenize13a(string line)
    {
        line = line.Replace("<skipped>", "").Replace("-\n", "").Replace('\n', ' ');
        if (line.Contains('&')) line = line.Replace("&quot;", "\"").Replace("&amp;", "&").Replace("&lt;", "<").Replace("&gt;", ">");
        line = " " + line + " ";
        line = Symbols().Replace(line, " $1 ");
        line = PeriodCommaAfter().Replace(line, "$1 $2 ");
        line = PeriodCommaBefore().Replace(line, " $1 $2");
        line = DashAfterDigit().Replace(line, "$1 $2 ");
        return line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }

    // mteval-v13a's character classes: { | } ~, [ \ ] ^ _ `, space ! " # $ % &, ( ) * +, : ; < = > ? @, and /.
    [GeneratedRegex(@"([\{-~\[-`\x20-&\(-\+:-@/])")]
    private static partial Regex Symbols();

    [GeneratedRegex(@"([^0-9])([\.,])")]
    private static partial Regex PeriodCommaAfter();

    [GeneratedRegex(@"([\.,])([^0-9])")]
    private static partial Regex PeriodCommaBefore();

    [GeneratedRegex(@"([0-9])(-)")]
    private static partial Regex DashAfterDigit();
}

/// <summary>Pooled BLEU counts over a corpus; <see cref="Score"/> turns them into sacreBLEU's score.</summary>
public sealed record BleuStatistics(long[] Matches, long[] Totals, long HypothesisLength, long ReferenceLength)
{
    /// <summary>1 when the hypotheses are at least as long as the references, else exp(1 − r/c) (0 for no words at all).</summary>
    public double BrevityPenalty =>
        HypothesisLength >= ReferenceLength ? 1 : HypothesisLength == 0 ? 0 : Math.Exp(1 - (double)ReferenceLength / HypothesisLength);

    /// <summary>Precision per order in percent, with sacreBLEU's exp smoothing; 0 from the first order with no n-grams at all.</summary>
    public double[] Precisions
    {
        get
        {
            var p = new double[Matches.Length];
            double smooth = 1;
            for (int n = 0; n < p.Length; n++)
            {
                if (Totals[n] == 0) break;
                if (Matches[n] == 0)
                {
                    smooth *= 2;
                    p[n] = 100 / (smooth * Totals[n]);
                }
                else p[n] = 100.0 * Matches[n] / Totals[n];
            }
            return p;
        }
    }

    /// <summary>BLEU, 0–100: the brevity penalty times the geometric mean of the precisions.</summary>
    public double Score
    {
        get
        {
            var p = Precisions;
            if (p.Any(x => x == 0)) return 0;
            return BrevityPenalty * Math.Exp(p.Sum(x => Math.Log(x)) / p.Length);
        }
    }
}
