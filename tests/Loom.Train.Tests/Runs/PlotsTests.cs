using ScottPlot;

namespace Loom.Train.Tests.Runs;

public class PlotsTests
{
    private static List<EpochSummary> History(int epochs) => Enumerable.Range(0, epochs).Select(e => new EpochSummary(e, 10 * (e + 1),
        new Dictionary<string, double>
        {
            ["loss"] = 1.0 / (e + 1), ["accuracy"] = 0.8 + 0.01 * e, ["f1_macro"] = 0.8 + 0.01 * e,
            ["val_loss"] = 1.1 / (e + 1), ["val_accuracy"] = 0.79 + 0.01 * e, ["val_f1_macro"] = 0.79 + 0.01 * e, ["lr"] = 1e-3,
        }, TimeSpan.FromSeconds(1))).ToList();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(40)]
    public void Epoch_ticks_are_whole_numbers(int epochs)
    {
        var (loss, metrics) = Plots.CurvePlots(History(epochs));
        foreach (var plot in new[] { loss, metrics })
        {
            plot.GetImage(600, 450); // ticks are generated when the plot is laid out
            var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Position).ToArray();
            Assert.NotEmpty(ticks);
            Assert.All(ticks, t => Assert.Equal(Math.Round(t), t));
        }
    }

    [Fact]
    public void Metrics_that_coincide_differ_in_marker_shape()
    {
        var (_, metrics) = Plots.CurvePlots(History(3));
        var series = metrics.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().ToDictionary(s => s.LegendText);
        Assert.NotEqual(series["accuracy"].MarkerShape, series["f1_macro"].MarkerShape);
        Assert.NotEqual(series["accuracy"].Color, series["f1_macro"].Color);
        // Training and validation of one metric share colour and shape, and differ in line pattern.
        Assert.Equal(series["accuracy"].MarkerShape, series["val_accuracy"].MarkerShape);
        Assert.NotEqual(series["accuracy"].LinePattern, series["val_accuracy"].LinePattern);
    }

    [Fact]
    public void Row_normalised_counts_are_fractions_of_each_true_class()
    {
        long[,] counts = { { 8, 2, 0 }, { 0, 0, 0 }, { 1, 1, 2 } };
        var fractions = Plots.RowNormalized(counts);
        Assert.Equal([0.8, 0.2, 0, 0, 0, 0, 0.25, 0.25, 0.5], fractions.Cast<double>());
    }

    [Fact]
    public void Both_confusion_matrices_are_written()
    {
        var dir = Directory.CreateTempSubdirectory("loom-plots-");
        try
        {
            long[,] counts = { { 834, 3, 19 }, { 3, 966, 0 }, { 12, 2, 748 } };
            string[] names = ["T-shirt/top", "Trouser", "Pullover"];
            var plain = Path.Combine(dir.FullName, "confusion.png");
            var normalized = Path.Combine(dir.FullName, "confusion_normalized.png");
            Plots.Confusion(counts, plain, names);
            Plots.Confusion(counts, normalized, names, normalize: true);
            Assert.True(new FileInfo(plain).Length > 1000);
            Assert.True(new FileInfo(normalized).Length > 1000);
            Assert.NotEqual(File.ReadAllBytes(plain), File.ReadAllBytes(normalized));
            if (Environment.GetEnvironmentVariable("LOOM_KEEP_PLOTS") is { } keep) File.Copy(plain, keep, overwrite: true);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
