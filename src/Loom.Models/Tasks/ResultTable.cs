using System.Text;

namespace Loom.Models;

/// <summary>
/// A table a task reports (per-class precision and recall) or predicts (one row per sample): report.md renders it in
/// Markdown, `loom eval` on the console, `loom predict` as CSV. Each renderer formats numbers its own way.
/// </summary>
/// <param name="Title">The section heading ("Per class"); empty for predictions.</param>
public sealed record ResultTable(string Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<Cell>> Rows)
{
    /// <summary>"## Title", a blank line and a Markdown table; numbers with five significant digits.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"## {Title}").AppendLine();
        sb.AppendLine("| " + string.Join(" | ", Columns) + " |");
        sb.AppendLine("|" + string.Concat(Columns.Select(_ => "---|")));
        foreach (var row in Rows) sb.AppendLine("| " + string.Join(" | ", row.Select(c => c.Format("G5"))) + " |");
        return sb.ToString();
    }

    /// <summary>A header line and one line per row, "\n"-terminated, fields quoted where they hold a comma, quote or line break; numbers round-trip.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(',', Columns.Select(Quote))).Append('\n');
        foreach (var row in Rows) sb.Append(string.Join(',', row.Select(c => Quote(c.Format("R"))))).Append('\n');
        return sb.ToString();
    }

    private static string Quote(string s) =>
        s.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}

/// <summary>One cell of a <see cref="ResultTable"/>: text, a whole number or a real number.</summary>
public readonly record struct Cell
{
    private readonly string? _text;
    private readonly double _real;
    private readonly long? _whole;

    private Cell(string? text, double real, long? whole) => (_text, _real, _whole) = (text, real, whole);

    public static implicit operator Cell(string text) => new(text, 0, null);

    public static implicit operator Cell(double number) => new(null, number, null);

    public static implicit operator Cell(long number) => new(null, 0, number);

    /// <summary>Text as it is; whole numbers in full; real numbers with <paramref name="numberFormat"/> ("F3", "G5"…).</summary>
    public string Format(string numberFormat) =>
        _text ?? _whole?.ToString(CultureInfo.InvariantCulture) ?? _real.ToString(numberFormat, CultureInfo.InvariantCulture);

    public override string ToString() => Format("R");
}
