using System.Text;

namespace Loom.Models;

/// <summary>The run's report.md: what was trained, how long it took, the final metrics, and the task's own sections and figures.</summary>
public static class Report
{
    public static string Markdown(Pipeline.Setup setup, FitResult fit, TaskEvaluation test, IReadOnlyList<string> plots)
    {
        var c = setup.Config;
        var sb = new StringBuilder();
        sb.AppendLine($"# Loom run: {c.Model} on {c.Data}").AppendLine();
        sb.AppendLine($"- data: {setup.Data.Description}");
        sb.AppendLine($"- model: {c.Model}, {setup.Model.ParameterCount():N0} parameters");
        sb.AppendLine($"- training: {fit.Epochs.Count} epochs, {fit.GlobalStep} steps, batch {c.BatchSize}, {c.Optimizer} lr {c.LearningRate}, schedule {c.Schedule}, seed {c.Seed}, {c.Threads} thread{(c.Threads == 1 ? "" : "s")}");
        sb.AppendLine($"- stopped: {fit.StopReason}; training time {Duration(fit.TrainingTime)}").AppendLine();
        sb.AppendLine("## Test metrics").AppendLine();
        sb.AppendLine("| metric | value |").AppendLine("|---|---|");
        sb.AppendLine($"| loss | {F(test.Loss)} |");
        foreach (var (k, v) in test.Metrics) sb.AppendLine($"| {k} | {F(v)} |");
        sb.AppendLine($"| samples | {test.Samples} |").AppendLine();
        foreach (var table in test.Tables) sb.Append(table.ToMarkdown()).AppendLine();
        sb.AppendLine("## Epochs").AppendLine();
        var keys = fit.Epochs.SelectMany(e => e.Values.Keys).Distinct().ToList();
        sb.AppendLine("| epoch | " + string.Join(" | ", keys) + " | seconds |");
        sb.AppendLine("|---|" + string.Concat(keys.Select(_ => "---|")) + "---|");
        foreach (var e in fit.Epochs)
            sb.AppendLine($"| {e.Epoch + 1} | " + string.Join(" | ", keys.Select(k => e.Values.TryGetValue(k, out var v) ? F(v) : "")) + $" | {e.Duration.TotalSeconds:F1} |");
        sb.AppendLine().AppendLine("![curves](curves.png)");
        foreach (var plot in plots) sb.AppendLine().AppendLine($"![{Path.GetFileNameWithoutExtension(plot)}]({plot})");
        return sb.ToString();
    }

    private static string F(double v) => v.ToString("G5", CultureInfo.InvariantCulture);

    // h:mm:ss.f: a run of over an hour (the TimeSpan format "mm" alone drops the hours) still reads right.
    internal static string Duration(TimeSpan t) => $"{(int)t.TotalHours}:{t:mm\\:ss\\.f}";
}
