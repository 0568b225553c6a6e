namespace Loom.Data;

/// <summary>
/// Text to token ids and back, for language models. Three kinds sit behind it: <see cref="CharTokenizer"/> (one id per
/// Unicode character seen in training), <see cref="Gpt2Tokenizer"/> (GPT-2's byte-level BPE, 50,257 ids) and
/// <see cref="BpeTokenizer"/> (byte-level BPE trained on the user's corpus by <see cref="BpeTrainer"/>).
/// </summary>
/// <remarks>
/// <see cref="Encode"/> never emits special tokens for ordinary text (except <see cref="SpecialTokens.Unk"/> for a
/// character a character-level vocabulary lacks); callers add bos/eos where documents start and end.
/// <see cref="Decode"/> leaves special tokens out.
/// </remarks>
public interface ITokenizer
{
    /// <summary>"char", "gpt2" or "bpe": what <see cref="Tokenizer.Load"/> reads back.</summary>
    string Kind { get; }

    /// <summary>Ids run from 0 to VocabSize − 1, special tokens included.</summary>
    int VocabSize { get; }

    SpecialTokens Special { get; }

    int[] Encode(string text);

    string Decode(ReadOnlySpan<int> ids);

    /// <summary>Writes what <see cref="Tokenizer.Load"/> needs to rebuild this tokenizer (a JSON file).</summary>
    void Save(string path);
}

/// <summary>The ids of the special tokens a tokenizer has (null: it has none of that kind).</summary>
/// <param name="Pad">Fills batches of sequences of different lengths.</param>
/// <param name="Bos">Begins a document.</param>
/// <param name="Eos">Ends a document; generation stops at it.</param>
/// <param name="Unk">Stands for text the vocabulary cannot express.</param>
public sealed record SpecialTokens(int? Pad, int? Bos, int? Eos, int? Unk)
{
    /// <summary>The layout of Loom's own vocabularies (char and trained BPE): ids 0–3 are pad, bos, eos, unk.</summary>
    public static SpecialTokens Reserved { get; } = new(0, 1, 2, 3);

    /// <summary>How many ids <see cref="Reserved"/> takes.</summary>
    public const int ReservedCount = 4;

    /// <summary>The texts Loom shows for the reserved ids, in id order.</summary>
    public static IReadOnlyList<string> ReservedNames { get; } = ["<|pad|>", "<|bos|>", "<|endoftext|>", "<|unk|>"];

    /// <summary>Whether <paramref name="id"/> is one of these special tokens.</summary>
    public bool Contains(int id) => id == Pad || id == Bos || id == Eos || id == Unk;
}
