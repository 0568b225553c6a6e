using System.Text.Json;
using System.Text.Json.Nodes;

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
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: a tokenizer file must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a tokenizer file ({e.Message})");
        }
        string? kind = (string?)json["kind"];
        try
        {
            return kind switch
            {
                "char" => CharTokenizer.FromJson(json),
                "bpe" => BpeTokenizer.FromJson(json),
                "gpt2" => Gpt2Tokenizer.Instance,
                _ => throw new InvalidDataException($"{path}: unknown tokenizer kind '{kind}' (expected {string.Join(", ", Kinds)})"),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException or NullReferenceException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: a damaged {kind} tokenizer file ({e.Message})");
        }
    }

    internal static void Write(string path, JsonObject json) =>
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) + "\n");
}
