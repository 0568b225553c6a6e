using Loom.Random;

namespace Loom.Models;

/// <summary>How <see cref="Gpt.Generate(IReadOnlyList{int[]}, GenerationOptions, Action{int, int[]}?)"/> picks tokens.</summary>
/// <param name="MaxTokens">New tokens per prompt at most.</param>
/// <param name="Temperature">Logits are divided by it; 0 means greedy (always the most likely token).</param>
/// <param name="TopK">Sample only among the K most likely tokens.</param>
/// <param name="TopP">Nucleus sampling: only the most likely tokens whose probabilities sum to at least P.</param>
/// <param name="RepetitionPenalty">CTRL's penalty on tokens already in the sequence (prompt included): a positive logit is divided by it, a negative one multiplied; 1 is none.</param>
/// <param name="Seed">Seeds the sampler: the same seed and options give the same text.</param>
/// <param name="StopToken">A row ends when it produces this token (usually the tokenizer's eos).</param>
public sealed record GenerationOptions(int MaxTokens = 100, double Temperature = 1, int? TopK = null, double? TopP = null,
    double RepetitionPenalty = 1, ulong Seed = 0, int? StopToken = null)
{
    public void Validate()
    {
        if (MaxTokens < 1) throw new ArgumentException($"--tokens must be at least 1, got {MaxTokens}");
        if (!(Temperature >= 0 && double.IsFinite(Temperature))) throw new ArgumentException($"--temperature must be ≥ 0 (0: greedy), got {Temperature}");
        if (TopK is < 1) throw new ArgumentException($"--top-k must be at least 1, got {TopK}");
        if (TopP is not null && !(TopP > 0 && TopP <= 1)) throw new ArgumentException($"--top-p must be in (0, 1], got {TopP}");
        if (!(RepetitionPenalty > 0 && double.IsFinite(RepetitionPenalty))) throw new ArgumentException($"--repetition-penalty must be positive (1: none), got {RepetitionPenalty}");
    }
}

/// <summary>
/// Picks the next token from one row of logits, in Hugging Face's order: repetition penalty, temperature, top-k, top-p,
/// then a draw from the softmax of what is left (or the arg max when greedy). Its own seeded generator makes a run
/// reproducible whatever else draws random numbers.
/// </summary>
public sealed class Sampler(GenerationOptions options)
{
    private readonly Generator _random = new(options.Seed);

    public int Pick(ReadOnlySpan<float> logits, IReadOnlyCollection<int> previous)
    {
        var z = new double[logits.Length];
        for (int i = 0; i < z.Length; i++) z[i] = logits[i];
        if (options.RepetitionPenalty != 1)
            foreach (int id in previous.Distinct())
                if ((uint)id < (uint)z.Length) z[id] = z[id] > 0 ? z[id] / options.RepetitionPenalty : z[id] * options.RepetitionPenalty;
        if (options.Temperature == 0) return ArgMax(z);

        var candidates = Candidates(z);
        int keep = candidates.Length;
        double max = z[candidates[0]];
        foreach (int id in candidates) max = Math.Max(max, z[id]);
        var p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) sum += p[i] = Math.Exp((z[candidates[i]] - max) / options.Temperature);
        if (options.TopP is double topP && topP < 1)
        {
            // candidates are sorted by descending logit here: keep the shortest prefix holding topP of the probability.
            double cumulative = 0;
            for (int i = 0; i < keep; i++)
            {
                cumulative += p[i] / sum;
                if (cumulative >= topP)
                {
                    keep = i + 1;
                    break;
                }
            }
            sum = 0;
            for (int i = 0; i < keep; i++) sum += p[i];
        }
        double u = _random.NextDouble() * sum;
        for (int i = 0; i < keep; i++)
        {
            u -= p[i];
            if (u < 0) return candidates[i];
        }
        return candidates[keep - 1]; // rounding left u ≥ 0 after the last candidate
    }

    // The ids that may be drawn: all of them in id order, or — with top-k or top-p — the K most likely (all for top-p
    // alone) by descending logit, ties to the smaller id, so top-k keeps exactly K and top-p a prefix of that order.
    private int[] Candidates(double[] z)
    {
        if (options.TopK is null && options.TopP is null) return Enumerable.Range(0, z.Length).ToArray();
        int k = Math.Min(options.TopK ?? z.Length, z.Length);
        int[] order;
        if (k < z.Length / 8)
        {
            // A min-heap of the best K seen so far: O(V log K) instead of sorting the whole vocabulary every token.
            var heap = new PriorityQueue<int, (double, int)>(k + 1);
            for (int i = 0; i < z.Length; i++)
            {
                heap.Enqueue(i, (z[i], -i));
                if (heap.Count > k) heap.Dequeue();
            }
            order = new int[k];
            for (int i = k - 1; i >= 0; i--) order[i] = heap.Dequeue();
            return order;
        }
        order = Enumerable.Range(0, z.Length).ToArray();
        Array.Sort(order, (a, b) => z[b].CompareTo(z[a]) is var c && c != 0 ? c : a.CompareTo(b));
        return order[..k];
    }

    private static int ArgMax(double[] z)
    {
        int best = 0;
        for (int i = 1; i < z.Length; i++) if (z[i] > z[best]) best = i;
        return best;
    }
}
