namespace Loom.Data;

/// <summary>Builds the tokenizer a language-model run asks for, and reads back one a run saved.</summary>
public static class Tokenizer
{
    /// <summary>The kinds <see cref="Create"/> takes.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["char", "bpe", "gpt2"];

    /// <summary>
    /// A tokenizer of <paramref name="kind"/>: "char" and "bpe" are fitted on <paramref name="corpus"/> (BPE up to
    /// <paramref name="vocabSize"/> ids), "gpt2" is GPT-2's own.
    /// </summary>
    public static ITokenizer Create(string kind, TextCorpus corpus, int vocabSize = 4096) => kind switch
    {
        "char" => CharTokenizer.Fit(corpus.Documents),
        "bpe" => BpeTrainer.Train(corpus.Documents, vocabSize),
        "gpt2" => Gpt2Tokenizer.Instance,
        _ => throw new ArgumentException($"--tokenizer must be one of {string.Join(", ", Kinds)}; got '{kind}'"),
    };

    /// <summary>Reads a tokenizer written by <see cref="ITokenizer.Save"/>.</summary>
    public static ITokenizer Load(string path)
    {
        var file = JsonFile.Read<TokenizerFile>(path, "a tokenizer file") ?? throw new InvalidDataException($"{path}: not a tokenizer file (null)");
        try
        {
            return file.Kind switch
            {
                "char" => new CharTokenizer(file.CodePoints ?? throw new InvalidDataException("no codePoints")),
                "bpe" => BpeTokenizer.FromFile(file),
                "gpt2" => Gpt2Tokenizer.Instance,
                "word" => new WordTokenizer(file.Words ?? throw new InvalidDataException("no words")),
                _ => throw new InvalidDataException($"unknown kind '{file.Kind}' (expected {string.Join(", ", Kinds)} or word)"),
            };
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: a damaged {file.Kind} tokenizer file ({e.Message})");
        }
    }
}

/// <summary>What a tokenizer file holds (tokenizer.json in a run folder): its kind and what that kind needs.</summary>
/// <param name="Kind">char, bpe or gpt2.</param>
/// <param name="CodePoints">char: the vocabulary's characters, in id order after the special tokens.</param>
/// <param name="VocabSize">bpe: the number of ids, a check on the merges.</param>
/// <param name="Merges">bpe: "left right" ids of each merge, in the order learnt (as GPT-2's merges.txt, by id).</param>
/// <param name="Words">word: the vocabulary's words, in id order after the special tokens.</param>
internal sealed record TokenizerFile(string Kind, int[]? CodePoints = null, int? VocabSize = null, string[]? Merges = null, string[]? Words = null);
