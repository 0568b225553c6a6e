using System.Globalization;

namespace Loom.Data;

/// <summary>
/// Labelled text from a CSV file, for text classification: one text column and one label column, read with
/// <see cref="CsvReader"/> (a UTF-8 byte-order mark skipped, quoted fields that may hold delimiters, line breaks and
/// doubled quotes, a ragged or unclosed record reported with its line). The file may have a header line naming its
/// columns or none (the Pang &amp; Lee polarity files have none); columns are then named by number from 0, as pandas
/// does. Every text and label cell must be filled: an empty one is an error naming the file and line.
/// </summary>
public sealed class TextTable
{
    /// <summary>The extensions a text table may have.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".csv", ".tsv"];

    private TextTable(string path, IReadOnlyList<string> texts, IReadOnlyList<string>? labels, IReadOnlyList<int> lines, string textColumn, string? labelColumn, bool hasHeader)
    {
        (Path, Texts, Labels, Lines, TextColumn, LabelColumn, HasHeader) = (path, texts, labels, lines, textColumn, labelColumn, hasHeader);
    }

    public string Path { get; }

    /// <summary>The text of each data row, in file order.</summary>
    public IReadOnlyList<string> Texts { get; }

    /// <summary>The label of each data row as written; null when the file has no label column (new text to predict).</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>The line of the file each data row starts on (from 1).</summary>
    public IReadOnlyList<int> Lines { get; }

    /// <summary>The text column: its header name, or its number from 0 in a file without a header.</summary>
    public string TextColumn { get; }

    /// <summary>The label column, as <see cref="TextColumn"/>; null when there is none.</summary>
    public string? LabelColumn { get; }

    public bool HasHeader { get; }

    public int Count => Texts.Count;

    /// <summary>
    /// Reads <paramref name="path"/>. <paramref name="textColumn"/> and <paramref name="labelColumn"/> name columns by
    /// header name, or by number from 0 when the file has no header; null picks them: the text column is the one with
    /// the most words per cell, and a two-column file's other column holds the labels.
    /// </summary>
    /// <param name="labelsRequired">False for new text to predict: a missing label column gives <see cref="Labels"/> null.</param>
    /// <exception cref="InvalidDataException">A malformed file, an empty text or label cell; the message names the file and line.</exception>
    /// <exception cref="ArgumentException">A column the file does not have.</exception>
    public static TextTable Read(string path, string? textColumn = null, string? labelColumn = null, bool labelsRequired = true)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        var first = FirstRecords(path, 1, 1 << 20);
        if (first.Count == 0) throw new InvalidDataException($"{path}: empty file: expected rows of text and label");
        int columns = first[0].Length;
        // Every column as text: labels such as 1 and -1 stay the strings they are, and "NA" is a word, not a gap.
        var table = CsvReader.Read(path, new CsvOptions
        {
            HasHeader = false,
            ColumnTypes = Enumerable.Range(0, columns).ToDictionary(i => Number(i), _ => CsvColumnType.Categorical),
            MissingMarkers = new HashSet<string>(),
        });
        var cells = Enumerable.Range(0, columns).Select(c => Cells(table[Number(c)])).ToArray();
        string[] header = cells.Select(c => c[0].Trim()).ToArray();

        bool hasHeader;
        string?[] given = [textColumn, labelColumn];
        if (given.Any(g => g is not null))
        {
            if (given.All(g => g is null || header.Contains(g))) hasHeader = true;
            else if (given.All(g => g is null || IsIndex(g, columns))) hasHeader = false;
            else
            {
                var missing = given.First(g => g is not null && !header.Contains(g) && !IsIndex(g, columns))!;
                bool optional = missing == labelColumn && !labelsRequired && textColumn is not null && header.Contains(textColumn);
                if (!optional)
                    throw new ArgumentException($"{path}: no column '{missing}' (the first line holds {string.Join(", ", header.Select(h => $"'{Shorten(h)}'"))}; name a column by its header, or by its number from 0 in a file without a header)");
                hasHeader = true;
            }
        }
        else
        {
            // A header names columns in a word or two and is never a number; a data row of text has a sentence in it.
            hasHeader = !header.Any(h => Words(h) > 3 || double.TryParse(h, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        }
        int start = hasHeader ? 1 : 0;
        if (table.RowCount == start) throw new InvalidDataException($"{path}: no data rows: the file holds only its header line");
        string[] names = hasHeader ? header : Enumerable.Range(0, columns).Select(Number).ToArray();

        int text = textColumn is null
            ? Enumerable.Range(0, columns).MaxBy(c => cells[c].Skip(start).Average(s => (double)Words(s)))
            : Array.IndexOf(names, textColumn);
        int label;
        if (labelColumn is not null) label = Array.IndexOf(names, labelColumn);
        else if (columns == 2) label = 1 - text;
        else if (columns == 1 && !labelsRequired) label = -1;
        else throw new ArgumentException($"{path} has {columns} columns ({string.Join(", ", names.Select(n => $"'{Shorten(n)}'"))}): name the label column with --target COLUMN");
        if (label == text) throw new ArgumentException($"{path}: column '{names[text]}' cannot be both the text and the label");
        if (label < 0 && labelsRequired) throw new ArgumentException($"{path}: no column '{labelColumn}' (columns: {string.Join(", ", names.Select(n => $"'{Shorten(n)}'"))})");

        var texts = new List<string>(table.RowCount - start);
        var labels = label < 0 ? null : new List<string>(table.RowCount - start);
        var lines = new List<int>(table.RowCount - start);
        for (int r = start; r < table.RowCount; r++)
        {
            var t = cells[text][r].Trim();
            if (t.Length == 0) throw new InvalidDataException($"{path}: line {table.LineOf(r)}: the text column '{names[text]}' is empty");
            texts.Add(t);
            if (labels is not null)
            {
                var l = cells[label][r].Trim();
                if (l.Length == 0) throw new InvalidDataException($"{path}: line {table.LineOf(r)}: the label column '{names[label]}' is empty");
                labels.Add(l);
            }
            lines.Add(table.LineOf(r));
        }
        return new TextTable(path, texts, labels, lines, names[text], label < 0 ? null : names[label], hasHeader);
    }

    /// <summary>
    /// Whether <paramref name="path"/> looks like labelled text, from its first 64 KB: a .csv or .tsv file of at most
    /// four columns, one of which holds at least five words a cell on average. Cheap enough to pick the task from.
    /// </summary>
    public static bool LooksLikeText(string path)
    {
        if (!File.Exists(path) || !Extensions.Contains(System.IO.Path.GetExtension(path), StringComparer.OrdinalIgnoreCase)) return false;
        List<string[]> records;
        try
        {
            records = FirstRecords(path, 50, 1 << 16);
        }
        catch (IOException)
        {
            return false;
        }
        if (records.Count == 0 || records[0].Length > 4 || records.Any(r => r.Length != records[0].Length)) return false;
        var data = records.Count > 1 ? records.Skip(1).ToList() : records;
        return Enumerable.Range(0, records[0].Length).Any(c => data.Average(r => (double)Words(r[c])) >= 5);
    }

    // The first complete records of the file (up to maxRecords, within maxChars characters), split on the delimiter
    // the file's first line suggests, respecting quotes. A record cut off by the character limit is left out.
    private static List<string[]> FirstRecords(string path, int maxRecords, int maxChars)
    {
        var buffer = new char[maxChars];
        int read;
        using (var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true))
            read = reader.ReadBlock(buffer, 0, maxChars);
        var text = new string(buffer, 0, read);
        bool whole = read < maxChars;
        int lineEnd = text.IndexOf('\n');
        var firstLine = lineEnd < 0 ? text : text[..lineEnd];
        char delimiter = CsvReader.DetectedDelimiters.MaxBy(d => firstLine.Count(ch => ch == d));
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < text.Length && records.Count < maxRecords; i++)
        {
            char ch = text[i];
            if (quoted)
            {
                if (ch != '"') field.Append(ch);
                else if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (ch == '"') { quoted = true; any = true; }
            else if (ch == delimiter) { fields.Add(field.ToString()); field.Clear(); any = true; }
            else if (ch == '\n' || ch == '\r')
            {
                if (any || field.Length > 0) { fields.Add(field.ToString()); records.Add([.. fields]); }
                fields.Clear(); field.Clear(); any = false;
            }
            else { field.Append(ch); any = true; }
        }
        if (whole && !quoted && (any || field.Length > 0) && records.Count < maxRecords) { fields.Add(field.ToString()); records.Add([.. fields]); }
        return records;
    }

    private static string[] Cells(CsvColumn column) => column.Values.Select(v => column.Categories[(int)v]).ToArray();

    private static string Number(int i) => i.ToString(CultureInfo.InvariantCulture);

    private static bool IsIndex(string name, int columns) =>
        int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < columns;

    private static int Words(string s) => s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    private static string Shorten(string s) => s.Length <= 30 ? s : s[..27] + "…";
}
