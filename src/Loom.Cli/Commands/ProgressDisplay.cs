using System.Diagnostics;
using Loom.Train;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>
/// Shows training progress: on an interactive terminal a live bar per epoch (loss, samples/s, ETA, and the epoch's
/// metrics when it ends); otherwise one plain line per epoch, so logs and CI output stay readable.
/// </summary>
internal sealed class ProgressDisplay(IAnsiConsole console, int epochs) : ICallback
{
    private ProgressContext? _context;
    private ProgressTask? _task;
    private double _lossSum;
    private int _batches;
    private long _samples;
    private readonly Stopwatch _clock = new();

    public bool Interactive => console.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="body"/> with the live display when the terminal supports it.</summary>
    public T Run<T>(Func<T> body)
    {
        if (!Interactive) return body();
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                _context = ctx;
                result = body();
            });
        return result;
    }

    public void OnEpochStart(Trainer trainer, int epoch, int batches)
    {
        (_lossSum, _batches, _samples) = (0, 0, 0);
        _clock.Restart();
        _task = _context?.AddTask($"epoch {epoch + 1}/{epochs}", maxValue: batches);
        if (_task is not null && trainer.BatchInEpoch > 0) _task.Value = trainer.BatchInEpoch;
    }

    public void OnBatchEnd(Trainer trainer, StepInfo step)
    {
        _lossSum += step.Loss;
        _batches++;
        _samples += step.Samples;
        if (_task is null) return;
        _task.Increment(1);
        double rate = _samples / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        _task.Description = $"epoch {step.Epoch + 1}/{epochs}  loss {_lossSum / _batches:F4}  {rate:F0} samples/s";
    }

    public void OnEpochEnd(Trainer trainer, EpochSummary summary)
    {
        var shown = string.Join("  ", summary.Values.Where(kv => kv.Key != "lr").Select(kv => $"{kv.Key} {kv.Value:F4}"));
        var line = $"epoch {summary.Epoch + 1}/{epochs}  {shown}  ({summary.Duration.TotalSeconds:F1} s)";
        if (_task is not null)
        {
            _task.Description = Markup.Escape(line);
            _task.Value = _task.MaxValue;
            _task.StopTask();
        }
        else
        {
            // Written past Spectre, which would wrap it at the 80 columns it assumes for redirected output.
            console.Profile.Out.Writer.WriteLine(line);
            console.Profile.Out.Writer.Flush();
        }
    }
}
