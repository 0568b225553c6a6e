namespace Loom.Cli.Commands;

/// <summary>
/// `loom activations RUN --attention [--text "…"]`: the attention probabilities of every attention layer of a text
/// transformer or GPT run over one text, drawn per layer with a token × token panel per head.
/// </summary>
internal static class AttentionMaps
{
    // Beyond about 32 tokens the axis labels of a 420-pixel panel overlap and the cells are a few pixels wide.
    private const int MaxTokens = 32;

    /// <summary>Draws the maps into RUN/explain/ and returns the explain.md section linking them.</summary>
    public static string Draw(TrainedRun trained, string? text, string folder, IAnsiConsole console)
    {
        var (ids, tokens, source) = trained.Data switch
        {
            TextClassificationData data => Words(data, text),
            LanguageModelData data => Tokens(data, text),
            _ => throw new UserErrorException($"--attention draws the attention of text transformers (text classification and language-model runs); this run's task is {trained.Config.Task}"),
        };
        if (!trained.Model.Modules().OfType<IAttentionLayer>().Any())
            throw new UserErrorException($"--attention: the run's model ({trained.Config.Model}) has no attention layer (a transformer or GPT model has)");
        var layers = AttentionCapture.Weights(trained.Model, ids);
        int t = tokens.Count;
        var md = new StringBuilder($"## Attention maps\n\n{t} tokens of {source}: `{string.Join(" ", tokens)}`.\n\n");
        md.Append("One picture per attention layer, one panel per head: row = query token, column = key token, colour = its attention probability (0 dark, 1 yellow; every row sums to 1). ");
        md.Append("Mean entropy per head in bits (0: each token attends to one token; log₂ of the tokens it may see: uniform).\n");
        var explainFolder = ExplainReport.Folder(folder);
        foreach (var (layer, weights) in layers)
        {
            int heads = weights.Shape[1];
            var values = weights.To(DType.Float64).Contiguous().ToArray<double>();
            var maps = new List<double[,]>();
            var entropies = new List<double>();
            for (int h = 0; h < heads; h++)
            {
                var map = new double[t, t];
                double entropy = 0;
                for (int i = 0; i < t; i++)
                    for (int j = 0; j < t; j++)
                    {
                        double p = values[(h * t + i) * t + j];
                        map[i, j] = p;
                        if (p > 0) entropy -= p * Math.Log2(p) / t;
                    }
                maps.Add(map);
                entropies.Add(entropy);
            }
            string name = $"attention_{layer.Replace('.', '_')}.png";
            var (width, height) = ExplainPlots.AttentionHeads(maps, tokens, Path.Combine(explainFolder, name), $"attention of {layer} ({heads} heads)");
            string entropyList = string.Join(", ", entropies.Select(e => e.ToString("F2", CultureInfo.InvariantCulture)));
            md.Append($"\n### Layer {layer}\n\nMean entropy per head: {entropyList} bits.\n\n![attention of {layer}](explain/{name})\n");
            console.WriteOneLine($"attention of {layer}: {heads} heads over {t} tokens, mean entropy {entropyList} bits ({width}×{height} px)");
        }
        return md.ToString();
    }

    private static (Tensor Ids, List<string> Tokens, string Source) Words(TextClassificationData data, string? text)
    {
        // A run on a frozen sentence encoder (minilm) feeds the head one embedding per text: no token attention to draw.
        var tokenizer = data.Tokenizer ?? throw new UserErrorException("--attention needs a model that reads word tokens; this run's model reads sentence embeddings");
        var chosen = text ?? (data.TestTexts.Count > 0 ? data.TestTexts[0] : throw new UserErrorException("the run has no test texts; give one with --text"));
        var ids = data.EncodeTexts([chosen]);
        var values = ids.ToArray<long>();
        // The encoding pads short texts to the narrowest width the models take; a transformer reads any length.
        int words = values.TakeWhile(id => id != tokenizer.Special.Pad).Count(), n = Math.Min(MaxTokens, words);
        return (ids.Narrow(1, 0, n), values.Take(n).Select(id => Label(tokenizer, id)).ToList(), Source(text, n, words));
    }

    private static (Tensor Ids, List<string> Tokens, string Source) Tokens(LanguageModelData data, string? text)
    {
        long[] values;
        if (text is not null)
        {
            values = data.Tokenizer.Encode(text).Select(id => (long)id).ToArray();
            if (values.Length == 0) throw new UserErrorException($"--text \"{text}\" has no tokens");
        }
        else
        {
            values = data.Test.Count > 0 ? data.Test.Inputs.Select(0, 0).ToArray<long>() : throw new UserErrorException("the run has no test windows; give a text with --text");
        }
        int n = Math.Min(Math.Min(MaxTokens, data.Context), values.Length);
        var ids = Tensor.FromArray(values[..n], 1, n);
        return (ids, values.Take(n).Select(id => Label(data.Tokenizer, id)).ToList(), Source(text, n, values.Length));
    }

    private static string Source(string? text, int shown, int total) =>
        (text is null ? "the first test sample" : "--text") + (shown < total ? $" (its first {shown} of {total})" : "");

    /// <summary>A token as an axis label: spaces and line breaks made visible, so single-character tokens stay readable.</summary>
    private static string Label(ITokenizer tokenizer, long id)
    {
        var token = tokenizer.Decode([(int)id]);
        return token.Length == 0 ? "∅" : token.Replace(' ', '_').Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
    }
}
