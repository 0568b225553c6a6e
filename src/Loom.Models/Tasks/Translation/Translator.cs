using Loom.Data;
using Loom.Memory;
using Loom.Nn;

namespace Loom.Models;

/// <summary>
/// Text in, text out: tokenises source sentences with the run's vocabulary, decodes them in batches of similar length
/// (greedy, or beam search of width <see cref="Beam"/>) and detokenises the best hypothesis.
/// </summary>
public sealed class Translator(Module<Tensor, Tensor> model, ITokenizer tokenizer, int beam, double lengthPenalty)
{
    // Sentences per decoding batch at beam width 1; a beam of k decodes k rows per sentence.
    private const int Rows = 64;

    public ITokenizer Tokenizer { get; } = tokenizer;

    public int Beam { get; } = beam;

    public double LengthPenalty { get; } = lengthPenalty;

    /// <summary>The translations of <paramref name="sources"/>, in order; <paramref name="beam"/> overrides <see cref="Beam"/> (1: greedy).</summary>
    public string[] Translate(IReadOnlyList<string> sources, int? beam = null)
    {
        var seq = model as ISequenceToSequence ?? throw new ArgumentException($"{model.GetType().Name} is not a sequence-to-sequence model");
        int width = beam ?? Beam, bos = Tokenizer.Special.Bos!.Value, eos = Tokenizer.Special.Eos!.Value;
        var encoded = sources.Select(s => Tokenizer.Encode(s) is var ids && ids.Length > 500 ? ids[..500] : ids).ToArray();
        var order = Enumerable.Range(0, sources.Count).OrderBy(i => encoded[i].Length).ToArray();
        var output = new string[sources.Count];
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            foreach (var chunk in order.Chunk(Math.Max(1, Rows / width)))
            {
                using var scope = new MemoryScope();
                int s = chunk.Max(i => encoded[i].Length) + 1;
                var ids = new long[chunk.Length * s];
                for (int r = 0; r < chunk.Length; r++)
                {
                    var e = encoded[chunk[r]];
                    for (int j = 0; j < e.Length; j++) ids[r * s + j] = e[j];
                    ids[r * s + e.Length] = eos;
                }
                // Room for a translation twice the source's length and then some; the decoder's positions allow it.
                var limits = chunk.Select(i => Math.Min(2 * encoded[i].Length + 10, 1000)).ToArray();
                var decoder = seq.StartDecoding(Tensor.FromArray(ids, chunk.Length, s), width);
                var best = width == 1
                    ? SequenceSearch.Greedy(decoder, chunk.Length, bos, eos, limits)
                    : [.. SequenceSearch.Beam(decoder, chunk.Length, width, bos, eos, limits, LengthPenalty).Select(h => h[0].Tokens)];
                for (int r = 0; r < chunk.Length; r++) output[chunk[r]] = Tokenizer.Decode(best[r]).Trim();
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        return output;
    }
}
