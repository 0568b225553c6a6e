using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Loom.Data;

/// <summary>
/// Reads delimited text (RFC 4180 CSV) into a typed <see cref="CsvTable"/>.
/// </summary>
/// <remarks>
/// Fields may be quoted; a quoted field may hold delimiters, newlines and doubled quotes (<c>"a ""b"", c"</c>).
/// A UTF-8 byte-order mark is skipped. Blank lines are ignored. Every record must have as many fields as the header:
/// a ragged record is an <see cref="InvalidDataException"/> naming its line. Numbers use the invariant culture
/// (a '.' decimal point), whatever the machine's locale.
/// </remarks>
public static class CsvReader
{
    /// <summary>Reads a CSV file, gunzipping it first when it is gzip-compressed (detected from its first bytes).</summary>
    public static CsvTable Read(string path, CsvOptions? options = null)
    {
        using var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[2];
        bool gzipped = file.ReadAtLeast(head, 2, throwOnEndOfStream: false) == 2 && head[0] == 0x1F && head[1] == 0x8B;
        file.Position = 0;
        using Stream source = gzipped ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(source, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        try
        {
            return Read(reader, path, options);
        }
        catch (Exception ex) when (gzipped && ex is InvalidDataException { InnerException: null } && !ex.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: corrupt gzip data ({ex.Message})", ex);
        }
    }

    /// <summary>Reads from a text reader; <paramref name="name"/> names the source in error messages.</summary>
    public static CsvTable Read(TextReader reader, string name, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        options ??= new CsvOptions();
        string text = reader.ReadToEnd();
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..]; // a BOM that reached us as a character
        var records = Parse(text, options.Delimiter, name);

        string[] names;
        int first = 0;
        if (options.HasHeader)
        {
            if (records.Count == 0) throw new InvalidDataException($"{name}: empty file: expected a header line");
            names = records[0].Fields.Select(f => f.Trim()).ToArray();
            first = 1;
            var duplicate = names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw new InvalidDataException($"{name}: the header names column '{duplicate.Key}' more than once");
        }
        else
        {
            names = Enumerable.Range(0, records.Count == 0 ? 0 : records[0].Fields.Length).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
        if (options.ColumnTypes is { } given)
            foreach (var key in given.Keys)
                if (!names.Contains(key)) throw new ArgumentException($"{name}: ColumnTypes names '{key}', which is not a column (columns: {string.Join(", ", names)})");

        int rows = records.Count - first;
        var lines = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            var rec = records[first + r];
            if (rec.Fields.Length != names.Length)
                throw new InvalidDataException($"{name}: line {rec.Line} has {rec.Fields.Length} fields but {(options.HasHeader ? "the header has" : "the first line has")} {names.Length}");
            lines[r] = rec.Line;
        }

        var columns = new CsvColumn[names.Length];
        var raw = new string[rows];
        for (int c = 0; c < names.Length; c++)
        {
            for (int r = 0; r < rows; r++) raw[r] = records[first + r].Fields[c].Trim();
            CsvColumnType? type = options.ColumnTypes is { } t && t.TryGetValue(names[c], out var ty) ? ty : null;
            columns[c] = BuildColumn(names[c], raw, type, options.MissingMarkers, lines, name);
        }
        return new CsvTable(name, columns, lines);
    }

    private static CsvColumn BuildColumn(string column, string[] raw, CsvColumnType? given, IReadOnlySet<string> missing, int[] lines, string name)
    {
        int rows = raw.Length;
        var values = new double[rows];
        var missingRows = new List<int>();
        bool allNumeric = true;
        for (int r = 0; r < rows; r++)
        {
            if (missing.Contains(raw[r]))
            {
                values[r] = double.NaN;
                missingRows.Add(r);
            }
            else if (!double.TryParse(raw[r], NumberStyles.Float, CultureInfo.InvariantCulture, out values[r]))
            {
                allNumeric = false;
                if (given == CsvColumnType.Numeric)
                    throw new InvalidDataException($"{name}: column '{column}' is numeric but line {lines[r]} has '{raw[r]}'");
            }
        }
        var type = given ?? (allNumeric ? CsvColumnType.Numeric : CsvColumnType.Categorical);
        if (type == CsvColumnType.Numeric) return new CsvColumn(column, type, values, [], [.. missingRows]);

        var present = new HashSet<string>(StringComparer.Ordinal);
        for (int r = 0; r < rows; r++)
            if (!missing.Contains(raw[r])) present.Add(raw[r]);
        // Numbers used as categories sort as numbers ("2" before "10"); text sorts ordinally.
        string[] categories = allNumeric
            ? [.. present.OrderBy(s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ThenBy(s => s, StringComparer.Ordinal)]
            : [.. present.Order(StringComparer.Ordinal)];
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < categories.Length; k++) index[categories[k]] = k;
        for (int r = 0; r < rows; r++)
            values[r] = missing.Contains(raw[r]) ? double.NaN : index[raw[r]];
        return new CsvColumn(column, type, values, categories, [.. missingRows]);
    }

    internal readonly record struct Record(int Line, string[] Fields);

    /// <summary>Splits text into records of fields, tracking the line each record starts on.</summary>
    internal static List<Record> Parse(string text, char delimiter, string name)
    {
        var records = new List<Record>();
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, recordLine = 1, i = 0;
        bool recordStarted = false; // distinguishes a blank line (no record) from a record of one empty field
        bool fieldStarted = false;  // the current field has consumed characters, so a quote is literal

        void EndRecord()
        {
            if (recordStarted)
            {
                fields.Add(field.ToString());
                records.Add(new Record(recordLine, [.. fields]));
            }
            fields.Clear();
            field.Clear();
            recordStarted = fieldStarted = false;
        }

        while (i < text.Length)
        {
            char ch = text[i];
            if (ch == '"' && !fieldStarted)
            {
                int quoteLine = line;
                i++;
                recordStarted = fieldStarted = true;
                while (true)
                {
                    if (i >= text.Length) throw new InvalidDataException($"{name}: line {quoteLine}: a quoted field is not closed before the end of the file");
                    char q = text[i];
                    if (q == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    if (q == '\n' || (q == '\r' && (i + 1 >= text.Length || text[i + 1] != '\n'))) line++;
                    field.Append(q);
                    i++;
                }
                // After the closing quote only a delimiter or the end of the record may follow (spaces are tolerated).
                while (i < text.Length && text[i] == ' ') i++;
                if (i < text.Length && text[i] != delimiter && text[i] != '\n' && text[i] != '\r')
                    throw new InvalidDataException($"{name}: line {line}: unexpected character '{text[i]}' after a closing quote");
                continue;
            }
            if (ch == delimiter)
            {
                fields.Add(field.ToString());
                field.Clear();
                recordStarted = true;
                fieldStarted = false;
                i++;
                continue;
            }
            if (ch == '\r' || ch == '\n')
            {
                EndRecord();
                i += ch == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2 : 1;
                line++;
                recordLine = line;
                continue;
            }
            field.Append(ch);
            recordStarted = fieldStarted = true;
            i++;
        }
        EndRecord();
        return records;
    }
}
