namespace Loom.Cli.Commands;

/// <summary>
/// `loom generate RUN --prompt "…"`: continue prompts with a trained language-model run, streaming the text as it is
/// produced; or with a Hugging Face GPT-2 checkpoint: `loom generate --weights model.safetensors --tokenizer gpt2 --prompt "…"`.
/// Several --prompt options decode as one batch and print in order when all are done.
/// </summary>
internal static class GenerateCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var run = new Argument<string?>("run") { Description = "a run folder written by loom train on text", Arity = ArgumentArity.ZeroOrOne };
        var prompt = new Option<string[]>("--prompt") { Description = "text to continue (repeat for a batch; empty: start from the tokenizer's bos/eos)", AllowMultipleArgumentsPerToken = false, Arity = ArgumentArity.OneOrMore };
        var tokens = new Option<int>("--tokens") { Description = "new tokens per prompt at most", DefaultValueFactory = _ => 100 };
        var temperature = new Option<double>("--temperature") { Description = "divides the logits; 0 is greedy", DefaultValueFactory = _ => 0.8 };
        var topK = new Option<int?>("--top-k") { Description = "sample among the K most likely tokens" };
        var topP = new Option<double?>("--top-p") { Description = "sample among the most likely tokens holding probability P" };
        var penalty = new Option<double>("--repetition-penalty") { Description = "CTRL's penalty on tokens already present (1: none)", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { Description = "random seed (same seed, same text)", DefaultValueFactory = _ => 0 };
        var weights = new Option<string?>("--weights") { Description = "a Hugging Face GPT-2 model.safetensors instead of a run" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "with --weights: gpt2, or a tokenizer.json written by loom train" };
        var heads = new Option<int?>("--heads") { Description = "with --weights: attention heads (default: config.json beside the file, else width/64)" };
        var inference = new InferenceOptions();
        var command = new Command("generate", "Continue text with a trained language model or a GPT-2 checkpoint")
        {
            run, prompt, tokens, temperature, topK, topP, penalty, seed, weights, tokenizer, heads, inference.Best, inference.Threads,
        };
        command.SetAction(parse =>
        {
            inference.ApplyThreads(parse);
            var prompts = parse.GetValue(prompt) ?? [];
            if (prompts.Length == 0) throw new UserErrorException("give at least one --prompt (an empty one, --prompt \"\", starts from nothing)");
            var generator = Load(parse.GetValue(run), parse.GetValue(weights), parse.GetValue(tokenizer), parse.GetValue(heads), parse.GetValue(inference.Best));
            var options = new GenerationOptions(parse.GetValue(tokens), parse.GetValue(temperature), parse.GetValue(topK), parse.GetValue(topP),
                parse.GetValue(penalty), parse.GetValue(seed));
            options.Validate(); // before the prompt is echoed, so that an error is a line of its own
            var output = console.Profile.Out.Writer;
            var clock = Stopwatch.StartNew();
            int produced;
            string[] texts;
            if (prompts.Length == 1)
            {
                output.Write(prompts[0]);
                output.Flush();
                texts = generator.Generate(prompts, options, (_, text) =>
                {
                    output.Write(text);
                    output.Flush();
                });
                output.WriteLine();
            }
            else
            {
                texts = generator.Generate(prompts, options);
                for (int i = 0; i < prompts.Length; i++)
                {
                    output.WriteLine($"--- {i + 1} ---");
                    output.WriteLine(prompts[i] + texts[i]);
                }
            }
            produced = generator.TokensGenerated;
            Console.Error.WriteLine($"{produced} tokens in {clock.Elapsed.TotalSeconds:F2} s ({produced / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F0} tokens/s, {prompts.Length} prompt{(prompts.Length == 1 ? "" : "s")}, {Loom.Threads.Count} thread{(Loom.Threads.Count == 1 ? "" : "s")})");
            return 0;
        });
        return command;
    }

    private static TextGenerator Load(string? run, string? weights, string? tokenizer, int? heads, bool best)
    {
        if (weights is null)
        {
            if (run is null) throw new UserErrorException("name a run folder (loom generate RUN --prompt …) or a GPT-2 checkpoint (--weights model.safetensors --tokenizer gpt2)");
            if (tokenizer is not null || heads is not null) throw new UserErrorException("--tokenizer and --heads go with --weights; a run folder has its own");
            return LanguageModelTask.LoadGenerator(new RunFolder(RunOptions.ExistingRun(run)), best);
        }
        if (run is not null) throw new UserErrorException("give either a run folder or --weights, not both");
        if (tokenizer is null) throw new UserErrorException("--weights needs --tokenizer (gpt2 for GPT-2 checkpoints, or a tokenizer.json)");
        if (heads is < 1) throw new UserErrorException($"--heads must be at least 1, got {heads}");
        ITokenizer tok = tokenizer == "gpt2" ? Gpt2Tokenizer.Instance
            : File.Exists(tokenizer) ? Data.Tokenizer.Load(tokenizer)
            : throw new UserErrorException($"--tokenizer {tokenizer}: give gpt2 or an existing tokenizer.json");
        var model = Gpt2Checkpoint.Load(weights, heads);
        if (tok.VocabSize > model.Config.Vocab)
            throw new UserErrorException($"--tokenizer {tokenizer} has {tok.VocabSize} tokens but {weights} only {model.Config.Vocab}");
        return new TextGenerator(model, tok);
    }
}
