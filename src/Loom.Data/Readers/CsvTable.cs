using System.Globalization;

namespace Loom.Data;

/// <summary>
/// A typed CSV table read by <see cref="CsvReader"/>: named columns of numbers or categories, with missing values
/// located by column, row and line. Turn it into model inputs with <see cref="ToTensor"/> (or, for data a trained model
/// must read exactly as its training data, with <see cref="CsvSchema.ToTensor"/>) and targets with <see cref="Labels(string)"/>.
/// </summary>
public sealed class CsvTable
{
    private readonly CsvColumn[] _columns;
    private readonly int[] _lines;

    internal CsvTable(string name, char delimiter, CsvColumn[] columns, int[] lines)
    {
        Name = name;
        Delimiter = delimiter;
        _columns = columns;
        _lines = lines;
        Missing = columns.SelectMany(c => c.MissingRows.Select(r => new CsvMissingValue(c.Name, r, lines[r])))
            .OrderBy(m => m.Row).ToArray();
    }

    /// <summary>The file (or the name given for a stream), for messages.</summary>
    public string Name { get; }

    /// <summary>The delimiter the file was read with (given, or detected).</summary>
    public char Delimiter { get; }

    public IReadOnlyList<CsvColumn> Columns => _columns;

    public int RowCount => _lines.Length;

    /// <summary>Every missing value in the table, by row.</summary>
    public IReadOnlyList<CsvMissingValue> Missing { get; }

    /// <summary>The 1-based line in the file where data row <paramref name="row"/> starts.</summary>
    public int LineOf(int row) => _lines[row];

    /// <summary>Whether the table has a column named <paramref name="column"/>.</summary>
    public bool Contains(string column) => _columns.Any(c => c.Name == column);

    public CsvColumn this[string column] =>
        _columns.FirstOrDefault(c => c.Name == column)
        ?? throw new ArgumentException($"{Name}: no column named '{column}' (columns: {string.Join(", ", _columns.Select(c => c.Name))}){DelimiterHint()}");

    /// <summary>
    /// The chosen columns (all when null) as a Float32 matrix [rows, features]: <see cref="CsvSchema.Of"/> followed by
    /// <see cref="CsvSchema.ToTensor"/>. Numeric columns give one feature; categorical ones one per category (one-hot)
    /// or one index. Missing values are an error naming the column and lines unless <paramref name="fillMissing"/> is
    /// given (a missing category then one-hot encodes as all zeros); so are infinite values, and categorical columns
    /// too large or too identifier-like to one-hot encode (see <see cref="CsvSchema.MaxOneHotCategories"/>).
    /// </summary>
    public Tensor ToTensor(IEnumerable<string>? columns = null, CategoricalEncoding encoding = CategoricalEncoding.OneHot, double? fillMissing = null) =>
        CsvSchema.Of(this, columns, encoding).ToTensor(this, fillMissing);

    /// <summary>The names of the features <see cref="ToTensor"/> produces, e.g. "age", "colour=red", "colour=blue".</summary>
    public string[] FeatureNames(IEnumerable<string>? columns = null, CategoricalEncoding encoding = CategoricalEncoding.OneHot) =>
        [.. CsvSchema.Of(this, columns, encoding).FeatureNames];

    /// <summary>
    /// A column as Int64 class indices [rows]: a categorical column's category indices, or a numeric column's values,
    /// which must be whole numbers. Missing labels are an error.
    /// </summary>
    public Tensor Labels(string column)
    {
        var c = this[column];
        CheckNoMissingLabels(c);
        var labels = new long[RowCount];
        for (int r = 0; r < labels.Length; r++)
        {
            double v = c.Values[r];
            if (!double.IsFinite(v) || v != Math.Floor(v) || Math.Abs(v) > 1L << 53)
                throw new InvalidDataException($"{Name}: label column '{c.Name}' has the non-integer value {Show(v)} at line {_lines[r]}");
            labels[r] = (long)v;
        }
        return Tensor.Wrap(labels, RowCount);
    }

    /// <summary>
    /// A column as Int64 indices [rows] into <paramref name="classes"/>, matched by name: a trained model's class list,
    /// so that data whose classes are a subset, or sorted differently, still gets the model's indices. A category is
    /// matched by its text; a number also by value ("1.0" is class "1"). A label that is not one of the classes is an
    /// error naming it and its line, and so is a missing label.
    /// </summary>
    public Tensor Labels(string column, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        var c = this[column];
        CheckNoMissingLabels(c);
        var lookup = new CategoryLookup(classes);
        var labels = new long[RowCount];
        for (int r = 0; r < labels.Length; r++)
        {
            int k = lookup.Find(c, r);
            if (k < 0)
                throw new InvalidDataException($"{Name}: line {_lines[r]}: label '{CellText(c, r)}' in column '{c.Name}' is not one of the {classes.Count} classes ({Describe(classes)})");
            labels[r] = k;
        }
        return Tensor.Wrap(labels, RowCount);
    }

    private void CheckNoMissingLabels(CsvColumn c)
    {
        if (c.MissingRows.Count > 0)
            throw new InvalidDataException($"{Name}: label column '{c.Name}' has {c.MissingRows.Count} missing values (lines {DescribeLines(c.MissingRows)})");
    }

    /// <summary>The cell's text as read: the category, or the number.</summary>
    internal static string CellText(CsvColumn c, int row) =>
        c.Type == CsvColumnType.Categorical ? c.Categories[(int)c.Values[row]] : Show(c.Values[row]);

    internal static string Show(double v) =>
        double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" : v.ToString("R", CultureInfo.InvariantCulture);

    internal static string Describe(IEnumerable<string> names, int shown = 10)
    {
        var list = names.ToList();
        return string.Join(", ", list.Take(shown)) + (list.Count > shown ? $", … ({list.Count} in all)" : "");
    }

    internal string DescribeLines(IReadOnlyList<int> rows)
    {
        var shown = string.Join(", ", rows.Take(5).Select(r => _lines[r]));
        return rows.Count > 5 ? $"{shown}, …" : shown;
    }

    // A file read with the wrong delimiter has one column whose name holds the real delimiter.
    private string DelimiterHint()
    {
        if (_columns.Length != 1) return "";
        char found = CsvReader.DetectedDelimiters.FirstOrDefault(d => d != Delimiter && _columns[0].Name.Contains(d));
        return found == '\0' ? "" : $"; the file was read as one column: its delimiter may be {CsvOptionsText.Show(found)}, not {CsvOptionsText.Show(Delimiter)}";
    }
}

/// <summary>How delimiters are named in messages.</summary>
internal static class CsvOptionsText
{
    public static string Show(char delimiter) => delimiter == '\t' ? "tab" : $"'{delimiter}'";
}

/// <summary>Finds a cell's index in a list of names: by text for categories, by value for numbers.</summary>
internal sealed class CategoryLookup
{
    private readonly Dictionary<string, int> _byText = new(StringComparer.Ordinal);
    private readonly Dictionary<double, int> _byValue = [];

    public CategoryLookup(IReadOnlyList<string> names)
    {
        for (int k = 0; k < names.Count; k++)
        {
            _byText.TryAdd(names[k], k);
            if (CsvReader.TryParseNumber(names[k], out var v) && !double.IsNaN(v)) _byValue.TryAdd(v, k);
        }
    }

    /// <summary>The index of row <paramref name="row"/>'s value of <paramref name="column"/>, or −1 when it is not a known name.</summary>
    public int Find(CsvColumn column, int row)
    {
        double v = column.Values[row];
        if (column.Type == CsvColumnType.Numeric) return _byValue.TryGetValue(v, out var byValue) ? byValue : -1;
        string text = column.Categories[(int)v];
        if (_byText.TryGetValue(text, out var k)) return k;
        return CsvReader.TryParseNumber(text, out var number) && _byValue.TryGetValue(number, out k) ? k : -1;
    }
}
