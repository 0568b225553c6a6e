using Loom.Bench.Comparison;
using Loom.Models;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Keyword spotting as `loom predict RUN clip.wav` runs it: one second of 8 kHz audio → log-mel features, per-utterance
/// normalisation → kws-cnn or kws-dscnn → class probabilities, at batch 1; and the features alone. The bar is
/// 5 ms per clip on one thread, features included. Weights are random: the time does not depend on them.
/// </summary>
public sealed class KeywordSpottingBench : IBenchmark
{
    public string Suite => "train";

    public string Name => "keyword-spotting";

    public void Run(BenchReport report, BenchOptions options)
    {
        var settings = new KeywordSpottingOptions();
        var clip = new float[settings.SampleRate];
        var random = new System.Random(1);
        for (int i = 0; i < clip.Length; i++) clip[i] = (float)(0.1 * Math.Sin(i * 0.3) + 0.01 * (random.NextDouble() - 0.5));
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            var features = new SpeechFeatures(settings);
            var output = new float[features.Size];
            Add(report, threads, "log-mel 1 s 8 kHz", CaseTimer.Time(() => features.Compute(clip, output), null, options, warmup: 20, minIterations: 50, budgetSeconds: options.Quick ? 0.3 : 1));
            foreach (var model in new[] { KeywordModels.Cnn, KeywordModels.DepthwiseSeparable })
            {
                Generator.ManualSeed(3);
                var spotter = new KeywordSpotter(KeywordModels.Create(model, features.Bands, features.Frames, 12), [.. Enumerable.Range(0, 12).Select(i => $"w{i}")], settings);
                Add(report, threads, $"{model} clip → probabilities", CaseTimer.Time(() => spotter.Probabilities([clip]), null, options, warmup: 20, minIterations: 50, budgetSeconds: options.Quick ? 0.3 : 2));
            }
        }
    }

    private void Add(BenchReport report, int threads, string name, CaseTiming t) =>
        report.Add(Name, $"{name} @{threads}t", [("threads", threads), ("median_ms", t.MedianSeconds * 1e3), ("min_ms", t.MinSeconds * 1e3), ("runs", t.Iterations)]);
}
