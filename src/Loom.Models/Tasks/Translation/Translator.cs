namespace Loom.Models;

/// <summary>
/// Text in, text out: tokenises source sentences with the run's vocabulary, decodes them in batches of similar length
/// (greedy, or beam search of width <see cref="Beam"/>) and detokenises the best hypothesis.
/// </summary>
public sealed class Translator(Module<Tensor, Tensor> model, ITokenizer tokenizer, int beam, double lengthPenalty)
{
    // Longer sources are cut: the decoder's positions end at 1,024, and no Bible verse comes near.
    private const int MaxSourceTokens = 500;

    public ITokenizer Tokenizer { get; } = tokenizer;

    public int Beam { get; } = beam;

    public double LengthPenalty { get; } = lengthPenalty;

    /// <summary>The translations of <paramref name="sources"/>, in order; <paramref name="beam"/> overrides <see cref="Beam"/> (1: greedy).</summary>
    public string[] Translate(IReadOnlyList<string> sources, int? beam = null)
    {
        int bos = Tokenizer.Special.Bos!.Value, eos = Tokenizer.Special.Eos!.Value;
        var encoded = sources.Select(s => Tokenizer.Encode(s) is var ids && ids.Length > MaxSourceTokens ? ids[..MaxSourceTokens] : ids)
            .Select(ids => (int[])[.. ids, eos]).ToList();
        // Room for a translation twice the source's length and then some; the decoder's positions allow it.
        var best = SequenceTasks.Decode(model, encoded, bos, eos, source => Math.Min(2 * (source.Length - 1) + 10, 1000), beam ?? Beam, LengthPenalty);
        return [.. best.Select(tokens => Tokenizer.Decode(tokens).Trim())];
    }
}
