using System.Text;

namespace Loom.Models;

/// <summary>
/// Text in, text out: tokenises prompts, decodes with <see cref="Gpt.Generate(IReadOnlyList{int[]}, GenerationOptions, Action{int, int[]}?)"/>
/// (all prompts as one batch) and reports each row's new text as it grows, for a console to stream.
/// </summary>
public sealed class TextGenerator(Gpt model, ITokenizer tokenizer)
{
    public Gpt Model { get; } = model;

    public ITokenizer Tokenizer { get; } = tokenizer;

    /// <summary>Tokens the last <see cref="Generate"/> call produced, over all prompts (stop tokens not counted).</summary>
    public int TokensGenerated { get; private set; }

    /// <summary>
    /// The continuation of every prompt. <paramref name="onText"/> gets (row, new text) whenever a row's decoded text
    /// grows; text ending in an incomplete UTF-8 character waits for the token that completes it. The tokenizer's eos
    /// stops a row unless <paramref name="options"/> names another stop token.
    /// </summary>
    public string[] Generate(IReadOnlyList<string> prompts, GenerationOptions options, Action<int, string>? onText = null)
    {
        if (Tokenizer.VocabSize > Model.Config.Vocab)
            throw new ArgumentException($"the tokenizer has {Tokenizer.VocabSize} tokens but the model only {Model.Config.Vocab}");
        var ids = prompts.Select(p => Prompt(p)).ToList();
        var tokens = prompts.Select(_ => new List<int>()).ToArray();
        var shown = new int[prompts.Count];
        options = options with { StopToken = options.StopToken ?? Tokenizer.Special.Eos };
        var result = Model.Generate(ids, options, (_, next) =>
        {
            for (int r = 0; r < next.Length; r++)
            {
                if (next[r] < 0 || next[r] == options.StopToken) continue;
                tokens[r].Add(next[r]);
                if (onText is null) continue;
                var text = Tokenizer.Decode(tokens[r].ToArray());
                int stable = text.Length;
                if (stable > 0 && text[^1] == '\uFFFD') stable--; // an incomplete character; its last byte is still to come
                if (stable > shown[r])
                {
                    onText(r, text[shown[r]..stable]);
                    shown[r] = stable;
                }
            }
        });
        TokensGenerated = result.Sum(r => r.Length);
        var output = result.Select(r => Tokenizer.Decode(r)).ToArray();
        if (onText is not null)
            for (int r = 0; r < output.Length; r++)
                if (output[r].Length > shown[r]) onText(r, output[r][shown[r]..]);
        return output;
    }

    // An empty prompt starts from the document separator, as GPT-2 samples unconditionally from <|endoftext|>.
    private int[] Prompt(string text)
    {
        var ids = Tokenizer.Encode(text);
        if (ids.Length > 0) return ids;
        int? start = Tokenizer.Special.Bos ?? Tokenizer.Special.Eos;
        return start is int s ? [s] : throw new ArgumentException("an empty prompt needs a tokenizer with a bos or eos token");
    }
}
