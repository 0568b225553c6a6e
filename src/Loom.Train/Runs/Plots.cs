using System.Globalization;
using ScottPlot;

namespace Loom.Train;

/// <summary>Training curves and confusion matrices as PNG files, drawn with ScottPlot.</summary>
public static class Plots
{
    /// <summary>
    /// Loss (left) and every other metric (right) per epoch, training solid and validation dashed, as
    /// <paramref name="path"/>. Values named "x" and "val_x" share a colour and a marker shape.
    /// </summary>
    public static void Curves(IReadOnlyList<EpochSummary> history, string path, int width = 1200, int height = 450)
    {
        var (loss, metrics) = CurvePlots(history);
        var multiplot = new Multiplot(loss); // the parameterless constructor would add an empty first subplot
        multiplot.AddPlot(metrics);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multiplot.SavePng(path, width, height);
    }

    /// <summary>The two panels of <see cref="Curves"/>, before they are drawn.</summary>
    public static (Plot Loss, Plot Metrics) CurvePlots(IReadOnlyList<EpochSummary> history)
    {
        var loss = new Plot();
        var metrics = new Plot();
        double[] epochs = history.Select(h => (double)(h.Epoch + 1)).ToArray();
        var names = history.SelectMany(h => h.Values.Keys).Distinct().Where(k => k != "lr" && !k.StartsWith("val_", StringComparison.Ordinal)).ToList();
        var palette = new ScottPlot.Palettes.Category10();
        // Metrics such as accuracy and macro F1 often lie on top of each other: a marker shape of their own (and a
        // thinner line for each later one) keeps both visible where they coincide.
        MarkerShape[] shapes = [MarkerShape.FilledCircle, MarkerShape.OpenSquare, MarkerShape.FilledTriangleUp, MarkerShape.OpenDiamond, MarkerShape.Cross, MarkerShape.Eks];
        int onMetrics = 0;
        for (int i = 0; i < names.Count; i++)
        {
            var name = names[i];
            var plot = name == "loss" ? loss : metrics;
            int order = name == "loss" ? 0 : onMetrics++;
            var color = palette.GetColor(i);
            foreach (var (key, dashed) in new[] { (name, false), ("val_" + name, true) })
            {
                var ys = history.Select(h => h.Values.TryGetValue(key, out var v) ? v : double.NaN).ToArray();
                if (ys.All(double.IsNaN)) continue;
                var line = plot.Add.Scatter(epochs, ys);
                line.Color = color;
                line.LegendText = key;
                line.LineWidth = Math.Max(1, 3 - order);
                line.MarkerShape = shapes[order % shapes.Length];
                line.MarkerSize = 9 - 1.5f * Math.Min(order, 2);
                if (dashed) line.LinePattern = LinePattern.Dashed;
            }
        }
        loss.Title("loss");
        metrics.Title("metrics");
        int last = history.Count == 0 ? 1 : history.Max(h => h.Epoch + 1);
        int first = history.Count == 0 ? 1 : history.Min(h => h.Epoch + 1);
        foreach (var p in new[] { loss, metrics })
        {
            p.XLabel("epoch");
            p.ShowLegend();
            // Epochs are whole numbers: never a tick at 1.5.
            p.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            p.Axes.SetLimitsX(first - 0.5, last + 0.5);
        }
        return (loss, metrics);
    }

    /// <summary>
    /// A heat map of counts[true, predicted] with the count in each cell, or with <paramref name="normalize"/> each row
    /// divided by its total (the recall of each true class on the diagonal), cells shown as percentages.
    /// </summary>
    public static void Confusion(long[,] counts, string path, IReadOnlyList<string>? labels = null, int size = 640, bool normalize = false)
    {
        int n = counts.GetLength(0);
        var plot = new Plot();
        var values = normalize ? RowNormalized(counts) : new double[n, n];
        if (!normalize)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    values[i, j] = counts[i, j];
        var map = plot.Add.Heatmap(values);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        double max = 0;
        foreach (var v in values) max = Math.Max(max, v);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                // Heatmap row 0 is drawn at the top: cell (i, j) is centred at x = j, y = n − 1 − i.
                string cell = normalize ? (100 * values[i, j]).ToString("F0", CultureInfo.InvariantCulture) : counts[i, j].ToString(CultureInfo.InvariantCulture);
                var text = plot.Add.Text(cell, j, n - 1 - i);
                text.LabelFontColor = values[i, j] > max / 2 ? Colors.Black : Colors.White;
                text.LabelAlignment = Alignment.MiddleCenter;
            }
        var ticks = Enumerable.Range(0, n).Select(i => labels is null ? i.ToString(CultureInfo.InvariantCulture) : labels[i]).ToArray();
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, n).Select(i => (double)i).ToArray(), ticks);
        plot.Axes.Left.SetTicks(Enumerable.Range(0, n).Select(i => (double)(n - 1 - i)).ToArray(), ticks);
        if (ticks.Any(t => t.Length > 3))
        {
            // Long class names ("T-shirt/top", "Trouser") would run into each other under the columns: slant them and
            // leave the room they need below the axis.
            plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.UpperRight;
            plot.Axes.Bottom.MinimumSize = 30 + 5 * ticks.Max(t => t.Length);
        }
        plot.XLabel("predicted");
        plot.YLabel("true");
        plot.Title(normalize ? "confusion matrix, % of each true class" : "confusion matrix");
        plot.SavePng(path, size, size);
    }

    /// <summary>counts[i, j] / Σ_j counts[i, j]; a class with no samples keeps a row of zeros.</summary>
    public static double[,] RowNormalized(long[,] counts)
    {
        int n = counts.GetLength(0), m = counts.GetLength(1);
        var result = new double[n, m];
        for (int i = 0; i < n; i++)
        {
            long total = 0;
            for (int j = 0; j < m; j++) total += counts[i, j];
            if (total == 0) continue;
            for (int j = 0; j < m; j++) result[i, j] = (double)counts[i, j] / total;
        }
        return result;
    }
}
