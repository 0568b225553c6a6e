using Loom.Cli.Commands;
using Loom.Nn;
using Loom.Random;
using Loom.Train;
using Spectre.Console;

namespace Loom.Cli.Tests;

public partial class ProgressDisplayTests
{
    private static EpochSummary Epoch(int epoch, params (string Key, double Value)[] values) =>
        new(epoch, 10 * (epoch + 1), values.ToDictionary(v => v.Key, v => v.Value), TimeSpan.FromSeconds(3.25));

    private static readonly (string, double)[] ClassifierValues =
        [("loss", 0.4114), ("accuracy", 0.871), ("f1_macro", 0.8694), ("val_loss", 0.1645), ("val_accuracy", 0.9463), ("val_f1_macro", 0.9463), ("lr", 0.002)];

    [Fact]
    public void Rows_line_up_under_the_header_and_fit_in_80_columns()
    {
        var table = new EpochTable(epochs: 12);
        var header = table.Header(Epoch(0, ClassifierValues));
        var row = table.Row(Epoch(0, ClassifierValues));
        var late = table.Row(Epoch(11, ClassifierValues));

        Assert.Matches(@"^\s+─+ train ─+\s+─+ validation ─+$", header[0]);
        Assert.Equal("epoch     loss  accuracy  f1_macro     loss  accuracy  f1_macro     time", header[1]);
        Assert.Equal("1/12    0.4114    0.8710    0.8694   0.1645    0.9463    0.9463    3.2 s", row);
        Assert.StartsWith("12/12   0.4114", late);
        Assert.All(new[] { header[0], header[1], row, late }, line => Assert.True(line.Length <= 80, $"{line.Length} columns: {line}"));
        Assert.Equal(header[1].Length, row.Length);
    }

    [Fact]
    public void An_epoch_without_validation_keeps_the_columns_and_shows_dashes()
    {
        var table = new EpochTable(epochs: 2);
        table.Header(Epoch(0, ClassifierValues));
        var row = table.Row(Epoch(1, ("loss", 0.5), ("accuracy", 0.75), ("f1_macro", 0.7)));
        Assert.Equal("2/2     0.5000    0.7500    0.7000        -         -         -    3.2 s", row);
    }

    [Fact]
    public void A_run_without_validation_has_only_the_train_group()
    {
        var header = new EpochTable(epochs: 3).Header(Epoch(0, ("loss", 1.0), ("accuracy", 0.5)));
        Assert.DoesNotContain("validation", header[0]);
        Assert.Equal("epoch     loss  accuracy     time", header[1]);
    }

    [Theory]
    [InlineData(80)]
    [InlineData(140)]
    [InlineData(200)]
    public void A_live_terminal_shows_each_finished_epoch_as_one_unbroken_row(int width)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.Yes,
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        console.Profile.Width = width;
        console.Profile.Height = 30;
        var display = new ProgressDisplay(console, epochs: 3);
        Assert.True(display.Interactive);

        Generator.ManualSeed(5);
        var model = new Sequential(new Linear(4, 3));
        var data = new TensorDataset(Tensor.Randn(48, 4), Tensor.Randint(0, 3, new Shape(48)));
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.1), (o, t) => Functional.CrossEntropy(o, t), new TrainerOptions { Epochs = 3 },
            [() => new Accuracy()], [display, new SlowBatches()]);
        display.Run(() => trainer.Fit(new DataLoader<Sample>(data, 8), new DataLoader<Sample>(data, 16)));

        // What the terminal received, without cursor movement and erase sequences: every frame's lines in order.
        var lines = AnsiEscape().Replace(writer.ToString(), "").Split('\n', '\r').Select(l => l.TrimEnd()).ToArray();
        for (int epoch = 1; epoch <= 3; epoch++)
            Assert.Single(lines, l => Regex.IsMatch(l, $@"^{epoch}/3\s+\d\.\d{{4}}\s+\d\.\d{{4}}\s+\d\.\d{{4}}\s+\d\.\d{{4}}\s+\d\.\d s$"));
        // Squeezed columns show up as lines holding a lone digit or "%" (the old display at 140 columns did that).
        Assert.DoesNotContain(lines, l => Regex.IsMatch(l, @"^\s*(\d|%)\s*$"));
        Assert.All(lines, l => Assert.True(l.Length <= width, $"a line wider than the terminal ({width}): {l}"));
    }

    /// <summary>Long enough batches that the live display redraws its bar (every 100 ms) within each epoch.</summary>
    private sealed class SlowBatches : ICallback
    {
        public void OnBatchEnd(Trainer trainer, StepInfo step) => Thread.Sleep(40);
    }

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]")]
    private static partial Regex AnsiEscape();
}
