using System.Globalization;
using System.Text;
using Loom.Train;

namespace Loom.Models;

/// <summary>The run's report.md: what was trained, how long it took, and the final metrics.</summary>
public static class Report
{
    public static string Markdown(ClassificationPipeline.Setup setup, FitResult fit, EvaluationResult test, ConfusionMatrix confusion)
    {
        var c = setup.Config;
        var sb = new StringBuilder();
        sb.AppendLine($"# Loom run: {c.Model} on {c.Data}").AppendLine();
        sb.AppendLine($"- data: {setup.Data.Description}");
        sb.AppendLine($"- model: {c.Model}, {setup.Model.ParameterCount():N0} parameters");
        sb.AppendLine($"- training: {fit.Epochs.Count} epochs, {fit.GlobalStep} steps, batch {c.BatchSize}, {c.Optimizer} lr {c.LearningRate}, schedule {c.Schedule}, seed {c.Seed}, {c.Threads} threads");
        sb.AppendLine($"- stopped: {fit.StopReason}; training time {TimeSpan.FromSeconds(fit.Epochs.Sum(e => e.Duration.TotalSeconds)):mm\\:ss\\.f}").AppendLine();
        sb.AppendLine("## Test metrics").AppendLine();
        sb.AppendLine("| metric | value |").AppendLine("|---|---|");
        sb.AppendLine($"| loss | {F(test.Loss)} |");
        foreach (var (k, v) in test.Metrics) sb.AppendLine($"| {k} | {F(v)} |");
        sb.AppendLine($"| samples | {test.Samples} |").AppendLine();
        sb.AppendLine("## Per class").AppendLine();
        sb.AppendLine("| class | precision | recall | F1 | support |").AppendLine("|---|---|---|---|---|");
        var per = PrecisionRecallF1.PerClass(confusion);
        for (int i = 0; i < per.Length; i++)
            sb.AppendLine($"| {setup.Data.ClassNames[i]} | {F(per[i].Precision)} | {F(per[i].Recall)} | {F(per[i].F1)} | {per[i].Support} |");
        sb.AppendLine().AppendLine("## Epochs").AppendLine();
        var keys = fit.Epochs.SelectMany(e => e.Values.Keys).Distinct().ToList();
        sb.AppendLine("| epoch | " + string.Join(" | ", keys) + " | seconds |");
        sb.AppendLine("|---|" + string.Concat(keys.Select(_ => "---|")) + "---|");
        foreach (var e in fit.Epochs)
            sb.AppendLine($"| {e.Epoch + 1} | " + string.Join(" | ", keys.Select(k => e.Values.TryGetValue(k, out var v) ? F(v) : "")) + $" | {e.Duration.TotalSeconds:F1} |");
        sb.AppendLine().AppendLine("![curves](curves.png)").AppendLine().AppendLine("![confusion](confusion.png)").AppendLine().AppendLine("![confusion, % of each true class](confusion_normalized.png)");
        return sb.ToString();
    }

    private static string F(double v) => v.ToString("G5", CultureInfo.InvariantCulture);
}
