using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace Loom.Data;

/// <summary>
/// Reads delimited text (RFC 4180 CSV) into a typed <see cref="CsvTable"/>.
/// </summary>
/// <remarks>
/// Fields may be quoted; a quoted field may hold delimiters, newlines and doubled quotes (<c>"a ""b"", c"</c>).
/// The delimiter (',', ';', tab or '|') is detected from the first lines unless <see cref="CsvOptions.Delimiter"/> names it.
/// A UTF-8 byte-order mark is skipped. Blank lines are ignored. Every record must have as many fields as the header:
/// a ragged record is an <see cref="InvalidDataException"/> naming its line, and so is a file with no data rows.
/// Numbers use the invariant culture (a '.' decimal point, no thousands separators), whatever the machine's locale;
/// infinities may be written <c>inf</c>/<c>-inf</c> (as pandas writes them) or <c>Infinity</c>. A column that is
/// mostly numbers but has a few cells that are not is an error naming them, not a silently categorical column.
/// A gzip file cut short is an error, not a table of the rows before the cut.
/// </remarks>
public static class CsvReader
{
    /// <summary>The delimiters <see cref="CsvOptions.Delimiter"/> = null chooses from, in order of preference on a tie.</summary>
    public static IReadOnlyList<char> DetectedDelimiters { get; } = [',', '\t', ';', '|'];

    /// <summary>How many records the delimiter is detected from.</summary>
    private const int SniffRecords = 20;

    /// <summary>Reads a CSV file, gunzipping it first when it is gzip-compressed (detected from its first bytes).</summary>
    public static CsvTable Read(string path, CsvOptions? options = null)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bool gzipped = bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B;
        var data = gzipped ? Gunzip(bytes, path) : new MemoryStream(bytes, writable: false);
        using var reader = new StreamReader(data, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Read(reader, path, options);
    }

    /// <summary>
    /// Decompresses all of a gzip file and checks that it is complete. .NET's GZipStream ends quietly when the
    /// compressed data stops early (a download or copy cut short), which would train on the rows before the cut; so
    /// the trailer is checked here: a gzip file ends with the CRC-32 and the length (mod 2³²) of its last member's
    /// data, and that data is the end of the output whether the file holds one member or several concatenated.
    /// </summary>
    private static MemoryStream Gunzip(byte[] bytes, string path)
    {
        var output = new MemoryStream();
        try
        {
            using var gzip = new GZipStream(new MemoryStream(bytes, writable: false), CompressionMode.Decompress);
            gzip.CopyTo(output);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: corrupt gzip data ({ex.Message})", ex);
        }
        var decoded = output.GetBuffer().AsSpan(0, (int)output.Length);
        const int smallestGzip = 18; // 10-byte header, an empty deflate block, 8-byte trailer
        bool complete = bytes.Length >= smallestGzip;
        if (complete)
        {
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 8));
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4));
            complete = size <= decoded.Length && Crc32.Compute(decoded[^(int)size..]) == crc;
        }
        if (!complete)
            throw new InvalidDataException($"{path}: the gzip file is truncated or corrupt: it decompresses to {decoded.Length} bytes but does not end with their checksum; the file was probably cut short, so get it again");
        output.Position = 0;
        return output;
    }

    /// <summary>Reads from a text reader; <paramref name="name"/> names the source in error messages.</summary>
    public static CsvTable Read(TextReader reader, string name, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        options ??= new CsvOptions();
        string text = reader.ReadToEnd();
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..]; // a BOM that reached us as a character
        char delimiter = options.Delimiter ?? DetectDelimiter(text, name);
        var records = Parse(text, delimiter, name);

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
        if (records.Count == first)
            throw new InvalidDataException(options.HasHeader ? $"{name}: no data rows: the file holds only its header line" : $"{name}: empty file: no data rows");
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
        return new CsvTable(name, delimiter, columns, lines);
    }

    /// <summary>
    /// The delimiter that splits the first records (header included) into the same number of fields, the most fields
    /// when several do; ',' when none splits them (a one-column file). Quotes are respected, so a ';' inside a quoted
    /// field of a comma-separated file does not count.
    /// </summary>
    internal static char DetectDelimiter(string text, string name)
    {
        char best = ',';
        int bestFields = 1;
        foreach (char candidate in DetectedDelimiters)
        {
            List<Record> sample;
            try
            {
                sample = Parse(text, candidate, name, SniffRecords);
            }
            catch (InvalidDataException)
            {
                continue; // quotes that do not fit this delimiter (text after a closing quote)
            }
            if (sample.Count == 0) continue;
            int fields = sample[0].Fields.Length;
            if (fields > bestFields && sample.All(r => r.Fields.Length == fields))
            {
                best = candidate;
                bestFields = fields;
            }
        }
        return best;
    }

    /// <summary>
    /// Parses a number as the reader does: invariant culture, plus the infinities that pandas and NumPy write
    /// ("inf", "-inf"), which .NET does not read on its own.
    /// </summary>
    internal static bool TryParseNumber(string s, out double value)
    {
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return true;
        var t = s.AsSpan();
        double sign = 1;
        if (t.Length > 0 && t[0] is '+' or '-')
        {
            sign = t[0] == '-' ? -1 : 1;
            t = t[1..];
        }
        if (t.Equals("inf", StringComparison.OrdinalIgnoreCase) || t.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = sign * double.PositiveInfinity;
            return true;
        }
        return false;
    }

    // Numbers written for people rather than programs: thousands separators ("1,000", "1 000", "1'000") or a decimal
    // comma ("3,5"). Read as text they would make a numeric column categorical, so they are reported instead.
    private static readonly Regex FormattedNumber = new(@"^[+-]?(\d{1,3}([,' ]\d{3})+(\.\d+)?|\d+,\d+)$", RegexOptions.CultureInvariant);

    private static CsvColumn BuildColumn(string column, string[] raw, CsvColumnType? given, IReadOnlySet<string> missing, int[] lines, string name)
    {
        int rows = raw.Length;
        var values = new double[rows];
        var isMissing = new bool[rows];
        var textRows = new List<int>();
        int numbers = 0;
        for (int r = 0; r < rows; r++)
        {
            if (missing.Contains(raw[r]))
            {
                values[r] = double.NaN;
                isMissing[r] = true;
            }
            else if (TryParseNumber(raw[r], out values[r]))
            {
                // Any spelling of NaN .NET accepts ("NAN", "-nan") is a missing value too: NaN is never data.
                if (double.IsNaN(values[r])) isMissing[r] = true;
                else numbers++;
            }
            else
            {
                textRows.Add(r);
                if (given == CsvColumnType.Numeric)
                    throw new InvalidDataException($"{name}: column '{column}' is numeric but line {lines[r]} has '{raw[r]}'");
            }
        }
        if (given is null && textRows.Count > 0)
        {
            // A column whose cells are mostly numbers (some perhaps written for people) is numeric with bad cells, not
            // a categorical column: say so rather than one-hot encode the numbers. Mostly words is categorical.
            string Cells(IEnumerable<int> rs) => string.Join(", ", rs.Take(3).Select(r => $"'{raw[r]}' at line {lines[r]}")) + (rs.Count() > 3 ? ", …" : "");
            var formatted = textRows.Where(r => FormattedNumber.IsMatch(raw[r])).ToList();
            int words = textRows.Count - formatted.Count;
            if (numbers + formatted.Count > words)
            {
                if (formatted.Count > 0)
                    throw new InvalidDataException($"{name}: column '{column}' has numbers written with thousands separators or a decimal comma ({Cells(formatted)}); " +
                        "Loom reads numbers with a '.' decimal point and no separators: rewrite the cells, or declare the column categorical if it is one");
                throw new InvalidDataException($"{name}: column '{column}' holds numbers but {textRows.Count} of its cells {(textRows.Count == 1 ? "is" : "are")} not ({Cells(textRows)}); " +
                    "fix them, mark them missing (e.g. NA), or declare the column categorical if it is one");
            }
        }
        int[] missingRows = [.. Enumerable.Range(0, rows).Where(r => isMissing[r])];
        var type = given ?? (textRows.Count == 0 ? CsvColumnType.Numeric : CsvColumnType.Categorical);
        if (type == CsvColumnType.Numeric) return new CsvColumn(column, type, values, [], missingRows);

        var present = new HashSet<string>(StringComparer.Ordinal);
        for (int r = 0; r < rows; r++)
            if (!isMissing[r]) present.Add(raw[r]);
        // Numbers used as categories sort as numbers ("2" before "10"); text sorts ordinally.
        bool allNumbers = textRows.Count == 0;
        string[] categories = allNumbers
            ? [.. present.OrderBy(s => TryParseNumber(s, out var v) ? v : double.NaN).ThenBy(s => s, StringComparer.Ordinal)]
            : [.. present.Order(StringComparer.Ordinal)];
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < categories.Length; k++) index[categories[k]] = k;
        for (int r = 0; r < rows; r++)
            values[r] = isMissing[r] ? double.NaN : index[raw[r]];
        return new CsvColumn(column, type, values, categories, missingRows);
    }

    internal readonly record struct Record(int Line, string[] Fields);

    /// <summary>Splits text into records of fields, tracking the line each record starts on; stops after <paramref name="maxRecords"/>.</summary>
    internal static List<Record> Parse(string text, char delimiter, string name, int maxRecords = int.MaxValue)
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
                if (records.Count >= maxRecords) return records;
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
