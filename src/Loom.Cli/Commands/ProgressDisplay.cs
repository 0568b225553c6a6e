namespace Loom.Cli.Commands;

/// <summary>
/// Shows training progress. Every finished epoch becomes a row of an <see cref="EpochTable"/>; on an interactive
/// terminal the epoch in progress has a live bar (loss, samples/s, ETA) below the rows. Rows are plain lines on any
/// output, so logs and CI output stay readable and grep-able.
/// </summary>
internal sealed class ProgressDisplay(IAnsiConsole console, int epochs) : ICallback
{
    private readonly EpochTable _table = new(epochs);
    private bool _headerWritten;
    private ProgressContext? _context;
    private ProgressTask? _task;
    private double _lossSum;
    private int _batches;
    private long _samples;
    private readonly Stopwatch _clock = new();
    private TimeSpan _lastStatus;
    private static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(60);

    public bool Interactive => console.Profile.Capabilities.Interactive;

    /// <summary>What the rate counts (the task's unit: samples, or tokens for a language model) and how many per sample.</summary>
    public (string Name, int PerSample) Throughput { get; set; } = ("samples", 1);

    /// <summary>Runs <paramref name="body"/> with the live display when the terminal supports it.</summary>
    public T Run<T>(Func<T> body)
    {
        if (!Interactive) return body();
        T result = default!;
        // The description holds only the running epoch's short status and the bar shrinks on narrow terminals, so the
        // columns never squeeze each other into a vertical strip; finished epochs leave the live area (HideCompleted)
        // as table rows written above it.
        console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn { Width = Math.Clamp(console.Profile.Width - 60, 10, 40) },
                new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                _context = ctx;
                result = body();
            });
        return result;
    }

    public void OnEpochStart(Trainer trainer, int epoch, int batches)
    {
        (_lossSum, _batches, _samples, _lastStatus) = (0, 0, 0, TimeSpan.Zero);
        _clock.Restart();
        _task = _context?.AddTask($"epoch {epoch + 1}/{epochs}", maxValue: batches);
        if (_task is not null && trainer.BatchInEpoch > 0) _task.Value = trainer.BatchInEpoch;
    }

    public void OnBatchEnd(Trainer trainer, StepInfo step)
    {
        _lossSum += step.Loss;
        _batches++;
        _samples += step.Samples;
        if (_task is null)
        {
            // A log has no live bar: a long epoch (a language model's can take many minutes) says where it is now and then.
            if (_clock.Elapsed - _lastStatus < StatusInterval) return;
            _lastStatus = _clock.Elapsed;
            WriteLine($"  epoch {step.Epoch + 1}/{epochs}  batch {step.Batch + 1}/{step.BatchesPerEpoch}  loss {_lossSum / _batches:F4}  {Rate():F0} {Throughput.Name}/s");
            return;
        }
        _task.Increment(1);
        _task.Description = $"epoch {step.Epoch + 1}/{epochs}  loss {_lossSum / _batches:F4}  {Rate():F0} {Throughput.Name}/s";
    }

    private double Rate() => _samples * (double)Throughput.PerSample / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);

    public void OnEpochEnd(Trainer trainer, EpochSummary summary)
    {
        if (_task is not null)
        {
            _task.Value = _task.MaxValue;
            _task.StopTask();
            _task = null;
        }
        if (!_headerWritten)
        {
            foreach (var line in _table.Header(summary)) WriteLine(line);
            _headerWritten = true;
        }
        WriteLine(_table.Row(summary));
    }

    private void WriteLine(string line)
    {
        if (_context is not null)
        {
            // Through Spectre, which draws the live bar again below it; cropped rather than wrapped on a narrow terminal.
            console.Write(new Text(line + "\n") { Overflow = Overflow.Ellipsis });
            return;
        }
        console.WriteOneLine(line);
    }
}
