namespace Loom.Models;

/// <summary>
/// A model that reads a source sequence and writes its target token by token (a translation, a summary): trained on
/// pairs packed as <see cref="SentencePairs"/>, decoded by greedy or beam search (<see cref="SequenceSearch"/>) through
/// <see cref="StartDecoding"/>.
/// </summary>
public interface ISequenceToSequence
{
    /// <summary>Token ids of the shared source and target vocabulary.</summary>
    int Vocab { get; }

    /// <summary>
    /// Encodes <paramref name="source"/> ids [B, S] (padded with 0 at the end) and returns a decoder of B · <paramref name="copies"/>
    /// rows, sentence b in rows b·copies … b·copies + copies − 1, to be fed bos first.
    /// </summary>
    IStepDecoder StartDecoding(Tensor source, int copies);
}

/// <summary>
/// How sequence pairs reach a model through the shared trainer: one sample [2, L] Int64 holds the source ids (row 0)
/// and the decoder's input, bos then the target ids (row 1), each padded with 0 at the end; the target [L] is the
/// target ids then eos, padded with −100, which the loss ignores. A model trims a batch to its longest row, so short
/// batches cost what they hold, and <see cref="Trimmed"/> cuts the targets to the logits the same way.
/// </summary>
public static class SentencePairs
{
    public const int Pad = 0, Ignore = -100;

    /// <summary>The source [B, S] and decoder input [B, T] of a packed batch [B, 2, L], each cut to its longest row.</summary>
    public static (Tensor Source, Tensor TargetInput) Unpack(Tensor batch)
    {
        if (batch.Rank != 3 || batch.Shape[1] != 2 || batch.DType != DType.Int64)
            throw new ArgumentException($"sequence-to-sequence models take Int64 pairs [B, 2, L], got {batch.DType.Name()} {batch.Shape}");
        var source = batch.Select(1, 0);
        var target = batch.Select(1, 1);
        return (Trim(source), Trim(target));
    }

    /// <summary>Ids [B, T] cut after the last column that holds a token in any row (at least one column).</summary>
    public static Tensor Trim(Tensor ids)
    {
        int b = ids.Shape[0], t = ids.Shape[1], used = 1;
        var values = ids.Contiguous().ToArray<long>();
        for (int r = 0; r < b; r++)
            for (int j = t - 1; j >= used; j--)
                if (values[r * t + j] != Pad) { used = j + 1; break; }
        return used == t ? ids : ids.Narrow(1, 0, used);
    }

    /// <summary>Targets [B, L] cut to the logits' length [B, T, V]: the model cut the batch to its longest target, and the columns cut off hold only ignored targets.</summary>
    public static Tensor Trimmed(Tensor targets, Tensor logits) =>
        targets.Shape[1] == logits.Shape[1] ? targets : targets.Narrow(1, 0, logits.Shape[1]);

    /// <summary>
    /// Samples [N, 2, L] and targets [N, L] of encoded pairs: the source as given, bos then the target, and the target
    /// then eos, unless the pair is not <c>Ended</c> (a target cut short: the model learns to stop only where targets really end).
    /// </summary>
    public static TensorDataset Pack(IReadOnlyList<(int[] Source, int[] Target, bool Ended)> pairs, int bos, int eos)
    {
        int width = pairs.Count == 0 ? 1 : pairs.Max(p => Math.Max(p.Source.Length, p.Target.Length + 1));
        var inputs = new long[pairs.Count * 2 * width];
        var targets = new long[pairs.Count * width];
        Array.Fill(targets, Ignore);
        for (int n = 0; n < pairs.Count; n++)
        {
            var (source, target, ended) = pairs[n];
            long row0 = (long)n * 2 * width, row1 = row0 + width, t0 = (long)n * width;
            for (int j = 0; j < source.Length; j++) inputs[row0 + j] = source[j];
            inputs[row1] = bos;
            for (int j = 0; j < target.Length; j++)
            {
                inputs[row1 + j + 1] = target[j];
                targets[t0 + j] = target[j];
            }
            if (ended) targets[t0 + target.Length] = eos;
        }
        return new TensorDataset(Tensor.FromArray(inputs, pairs.Count, 2, width), Tensor.FromArray(targets, pairs.Count, width));
    }
}
