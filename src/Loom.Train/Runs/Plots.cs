using ScottPlot;

namespace Loom.Train;

/// <summary>Training curves and confusion matrices as PNG files, drawn with ScottPlot.</summary>
public static class Plots
{
    /// <summary>
    /// Loss (left) and every other metric (right) per epoch, training solid and validation dashed, as
    /// <paramref name="path"/>. Values named "x" and "val_x" share a colour.
    /// </summary>
    public static void Curves(IReadOnlyList<EpochSummary> history, string path, int width = 1200, int height = 450)
    {
        var loss = new Plot();
        var metrics = new Plot();
        double[] epochs = history.Select(h => (double)(h.Epoch + 1)).ToArray();
        var names = history.SelectMany(h => h.Values.Keys).Distinct().Where(k => k != "lr" && !k.StartsWith("val_", StringComparison.Ordinal)).ToList();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < names.Count; i++)
        {
            var name = names[i];
            var plot = name == "loss" ? loss : metrics;
            var color = palette.GetColor(i);
            foreach (var (key, dashed) in new[] { (name, false), ("val_" + name, true) })
            {
                var ys = history.Select(h => h.Values.TryGetValue(key, out var v) ? v : double.NaN).ToArray();
                if (ys.All(double.IsNaN)) continue;
                var line = plot.Add.Scatter(epochs, ys);
                line.Color = color;
                line.LegendText = key;
                line.LineWidth = 2;
                if (dashed) line.LinePattern = LinePattern.Dashed;
            }
        }
        loss.Title("loss");
        metrics.Title("metrics");
        foreach (var p in new[] { loss, metrics })
        {
            p.XLabel("epoch");
            p.ShowLegend();
        }
        var multiplot = new Multiplot(loss); // the parameterless constructor would add an empty first subplot
        multiplot.AddPlot(metrics);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multiplot.SavePng(path, width, height);
    }

    /// <summary>A heat map of counts[true, predicted] with the count in each cell.</summary>
    public static void Confusion(long[,] counts, string path, IReadOnlyList<string>? labels = null, int size = 640)
    {
        int n = counts.GetLength(0);
        var plot = new Plot();
        var values = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                values[i, j] = counts[i, j];
        var map = plot.Add.Heatmap(values);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        long max = 0;
        foreach (var c in counts) max = Math.Max(max, c);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                // Heatmap row 0 is drawn at the top: cell (i, j) is centred at x = j, y = n − 1 − i.
                var text = plot.Add.Text(counts[i, j].ToString(), j, n - 1 - i);
                text.LabelFontColor = counts[i, j] > max / 2 ? Colors.Black : Colors.White;
                text.LabelAlignment = Alignment.MiddleCenter;
            }
        var ticks = Enumerable.Range(0, n).Select(i => labels is null ? i.ToString() : labels[i]).ToArray();
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, n).Select(i => (double)i).ToArray(), ticks);
        plot.Axes.Left.SetTicks(Enumerable.Range(0, n).Select(i => (double)(n - 1 - i)).ToArray(), ticks);
        plot.XLabel("predicted");
        plot.YLabel("true");
        plot.Title("confusion matrix");
        plot.SavePng(path, size, size);
    }
}
