namespace Loom.Models;

/// <summary>
/// The lead baseline of summarisation: a text's first <see cref="Words"/> words (split at white space, as written), with
/// the number of words chosen where it scores the best mean ROUGE-L on data held out from the test split.
/// </summary>
public sealed record LeadBaseline(int Words)
{
    /// <summary>The longest lead <see cref="Tune"/> tries.</summary>
    public const int MaxWords = 30;

    public string Summarize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Take(Words));

    /// <summary>The lead of 1…<see cref="MaxWords"/> words with the best mean ROUGE-L of <paramref name="texts"/> against <paramref name="references"/> (the shortest of equals).</summary>
    public static LeadBaseline Tune(IReadOnlyList<string> texts, IReadOnlyList<string> references)
    {
        if (texts.Count == 0) throw new ArgumentException("the lead baseline is tuned on at least one text");
        int best = 1;
        double bestScore = double.NegativeInfinity;
        for (int n = 1; n <= MaxWords; n++)
        {
            var lead = new LeadBaseline(n);
            double score = Rouge.Corpus([.. texts.Select(lead.Summarize)], references).RougeL;
            if (score > bestScore) (best, bestScore) = (n, score);
        }
        return new LeadBaseline(best);
    }
}
