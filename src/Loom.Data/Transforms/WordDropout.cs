namespace Loom.Data;

/// <summary>
/// Replaces each word id of a token sequence by the unknown-word id with probability <see cref="Probability"/>, leaving
/// padding and the other special tokens alone ("word dropout", Iyyer et al. 2015). Applied to training samples only, it
/// does two things a vocabulary of training words cannot: the unknown-word embedding gets trained, where otherwise it
/// is never seen until test texts bring their unseen words; and a model cannot lean on any single word.
/// </summary>
public sealed class WordDropout : ITransform
{
    public WordDropout(double probability, int unknown, int firstWord, ulong seed = 0)
    {
        if (!(probability >= 0 && probability < 1)) throw new ArgumentOutOfRangeException(nameof(probability), probability, "WordDropout: probability must lie in [0, 1)");
        (Probability, Unknown, FirstWord) = (probability, unknown, firstWord);
        Generator = new Generator(seed);
    }

    public double Probability { get; }

    /// <summary>The id words are replaced by.</summary>
    public int Unknown { get; }

    /// <summary>The first id that is a word; lower ids (padding, bos, eos, unk) are kept.</summary>
    public int FirstWord { get; }

    public Generator Generator { get; }

    public Tensor Apply(Tensor input)
    {
        if (input.DType != DType.Int64) throw new ArgumentException($"WordDropout: word ids must be Int64, got {input.DType}");
        var ids = input.ToArray<long>();
        // One generator shared by the loader's workers would race; the lock keeps the draws a seeded sequence.
        lock (Generator)
        {
            for (int i = 0; i < ids.Length; i++)
                if (ids[i] >= FirstWord && Generator.NextDouble() < Probability) ids[i] = Unknown;
        }
        return Tensor.FromArray(ids, input.Shape.ToArray());
    }
}
