namespace Loom.Cli.Commands;

/// <summary>
/// Finished epochs as rows of a fixed-width table: a two-line header (train | validation groups, then the metric
/// names), then one row per epoch. The columns are fixed by the first epoch's keys, so the rows line up in a log and
/// on a terminal alike; an epoch without a value shows "-".
/// </summary>
internal sealed class EpochTable(int epochs)
{
    private const string Gap = "  ";
    private string[]? _train;
    private string[]? _validation;
    private int[]? _widths;
    private readonly int _epochWidth = Math.Max("epoch".Length, 2 * epochs.ToString(CultureInfo.InvariantCulture).Length + 1);

    /// <summary>The header lines, fixed by the keys of <paramref name="first"/>.</summary>
    public IReadOnlyList<string> Header(EpochSummary first)
    {
        // "lr" is in the run's metrics.jsonl and report; on the console it would only push the row past 80 columns.
        _train = first.Values.Keys.Where(k => k != "lr" && !k.StartsWith("val_", StringComparison.Ordinal)).ToArray();
        _validation = first.Values.Keys.Where(k => k.StartsWith("val_", StringComparison.Ordinal)).Select(k => k["val_".Length..]).ToArray();
        // Seven characters hold every value the rows print (0.1234, 12.3456); a longer name widens its column.
        _widths = _train.Concat(_validation).Select(n => Math.Max(n.Length, 7)).ToArray();

        var groups = new StringBuilder(new string(' ', _epochWidth));
        var names = new StringBuilder("epoch".PadRight(_epochWidth));
        int column = 0;
        foreach (var (title, keys) in new[] { ("train", _train), ("validation", _validation) })
        {
            if (keys.Length == 0) continue;
            int width = 0;
            foreach (var key in keys)
            {
                names.Append(Gap).Append(key.PadLeft(_widths[column]));
                width += Gap.Length + _widths[column++];
            }
            // The group title, centred in a rule over its columns: "── train ──".
            string label = $" {title} ";
            int rule = Math.Max(0, width - Gap.Length - label.Length);
            groups.Append(Gap).Append(new string('─', rule / 2)).Append(label).Append(new string('─', rule - rule / 2));
        }
        names.Append(Gap).Append("time".PadLeft(7));
        return [groups.ToString().TrimEnd(), names.ToString()];
    }

    /// <summary>The row of one finished epoch; <see cref="Header"/> must have been called.</summary>
    public string Row(EpochSummary summary)
    {
        if (_train is null || _validation is null || _widths is null) throw new InvalidOperationException("EpochTable.Row before Header");
        var row = new StringBuilder($"{summary.Epoch + 1}/{epochs}".PadRight(_epochWidth));
        int column = 0;
        foreach (var key in _train.Concat(_validation.Select(k => "val_" + k)))
        {
            string value = summary.Values.TryGetValue(key, out var v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";
            row.Append(Gap).Append(value.PadLeft(_widths[column++]));
        }
        row.Append(Gap).Append($"{summary.Duration.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s".PadLeft(7));
        return row.ToString();
    }
}
