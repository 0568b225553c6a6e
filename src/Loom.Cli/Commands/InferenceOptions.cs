namespace Loom.Cli.Commands;

/// <summary>
/// What the verbs that run a trained model on given text share (translate, summarize, generate): --best, and --threads
/// with all cores by default, checked and applied the same way.
/// </summary>
internal sealed class InferenceOptions
{
    public Option<bool> Best { get; } = new("--best") { Description = "use the run's best.safetensors (lowest validation loss)" };

    public Option<int?> Threads { get; } = new("--threads") { Description = "threads for kernels (default: all cores)" };

    /// <summary>Checks --threads and sets the kernel threads from it (all cores when not given).</summary>
    public void ApplyThreads(ParseResult parse)
    {
        if (parse.GetValue(Threads) is < 1 and var t) throw new UserErrorException($"--threads must be at least 1, got {t}");
        Loom.Threads.Count = parse.GetValue(Threads) ?? Environment.ProcessorCount;
    }
}
