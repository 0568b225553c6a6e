using Loom.Memory;

namespace Loom.Models;

/// <summary>
/// What translation and summarisation share: sequence pairs packed as <see cref="SentencePairs"/>, a cross-entropy
/// over the targets cut to the logits, perplexity, batched greedy or beam-search decoding through
/// <see cref="SequenceSearch"/>, and the check of the beam options.
/// </summary>
public static class SequenceTasks
{
    /// <summary>Token cross-entropy of logits [B, T, V] against targets [B, L ≥ T] (−100 ignored), optionally label-smoothed.</summary>
    public static Func<Tensor, Tensor, Tensor> Loss(double labelSmoothing = 0) =>
        (logits, targets) => Functional.CrossEntropy(logits.Reshape(-1, logits.Shape[^1]), SentencePairs.Trimmed(targets, logits).Reshape(-1),
            ignoreIndex: SentencePairs.Ignore, labelSmoothing: labelSmoothing);

    /// <summary>Perplexity of the targets, cut to the logits as the loss cuts them.</summary>
    public static IReadOnlyList<Func<IMetric>> Metrics() => [() => new TrimmedTargets(new Perplexity(SentencePairs.Ignore))];

    private sealed class TrimmedTargets(IMetric inner) : IMetric
    {
        public string Name => inner.Name;
        public bool HigherIsBetter => inner.HigherIsBetter;
        public void Update(Tensor predictions, Tensor targets) => inner.Update(predictions, SentencePairs.Trimmed(targets, predictions));
        public double Compute() => inner.Compute();
        public void Reset() => inner.Reset();
    }

    // Hypotheses per decoding batch: a beam of k decodes k rows per source.
    private const int Rows = 64;

    /// <summary>
    /// The best token sequence (without bos and eos) for each of <paramref name="sources"/> (token ids, eos included
    /// where the model was trained with it), decoded greedily (<paramref name="beam"/> 1) or by beam search in batches of
    /// similar length, at most <paramref name="maxLength"/>(source) tokens each; <paramref name="constrain"/> wraps
    /// each batch's decoder (banned tokens, a minimum length).
    /// </summary>
    public static int[][] Decode(Module<Tensor, Tensor> model, IReadOnlyList<int[]> sources, int bos, int eos, Func<int[], int> maxLength,
        int beam, double lengthPenalty, Func<IStepDecoder, IStepDecoder>? constrain = null)
    {
        var seq = model as ISequenceToSequence ?? throw new ArgumentException($"{model.GetType().Name} is not a sequence-to-sequence model");
        var order = Enumerable.Range(0, sources.Count).OrderBy(i => sources[i].Length).ToArray();
        var output = new int[sources.Count][];
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            foreach (var chunk in order.Chunk(Math.Max(1, Rows / beam)))
            {
                using var scope = new MemoryScope();
                int s = Math.Max(1, chunk.Max(i => sources[i].Length));
                var ids = new long[chunk.Length * s];
                for (int r = 0; r < chunk.Length; r++)
                    for (int j = 0; j < sources[chunk[r]].Length; j++) ids[r * s + j] = sources[chunk[r]][j];
                var limits = chunk.Select(i => maxLength(sources[i])).ToArray();
                var decoder = seq.StartDecoding(Tensor.FromArray(ids, chunk.Length, s), beam);
                if (constrain is not null) decoder = constrain(decoder);
                var best = beam == 1
                    ? SequenceSearch.Greedy(decoder, chunk.Length, bos, eos, limits)
                    : [.. SequenceSearch.Beam(decoder, chunk.Length, beam, bos, eos, limits, lengthPenalty).Select(h => h[0].Tokens)];
                for (int r = 0; r < chunk.Length; r++) output[chunk[r]] = best[r];
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        return output;
    }

    /// <summary>Checks --beam and --length-penalty (<see cref="SharedTaskOptions.Beam"/>); the message names the option.</summary>
    public static void Validate(int beam, double lengthPenalty)
    {
        if (beam < 1) throw new ArgumentException($"--beam must be at least 1, got {beam}");
        if (!(lengthPenalty >= 0 && lengthPenalty <= 2)) throw new ArgumentException($"--length-penalty must be in [0, 2], got {lengthPenalty.ToString(CultureInfo.InvariantCulture)}");
    }
}
