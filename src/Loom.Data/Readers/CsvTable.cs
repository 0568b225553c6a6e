namespace Loom.Data;

/// <summary>
/// A typed CSV table read by <see cref="CsvReader"/>: named columns of numbers or categories, with missing values
/// located by column, row and line. Turn it into model inputs with <see cref="ToTensor"/> and targets with <see cref="Labels"/>.
/// </summary>
public sealed class CsvTable
{
    private readonly CsvColumn[] _columns;
    private readonly int[] _lines;

    internal CsvTable(string name, CsvColumn[] columns, int[] lines)
    {
        Name = name;
        _columns = columns;
        _lines = lines;
        Missing = columns.SelectMany(c => c.MissingRows.Select(r => new CsvMissingValue(c.Name, r, lines[r])))
            .OrderBy(m => m.Row).ToArray();
    }

    /// <summary>The file (or the name given for a stream), for messages.</summary>
    public string Name { get; }

    public IReadOnlyList<CsvColumn> Columns => _columns;

    public int RowCount => _lines.Length;

    /// <summary>Every missing value in the table, by row.</summary>
    public IReadOnlyList<CsvMissingValue> Missing { get; }

    /// <summary>The 1-based line in the file where data row <paramref name="row"/> starts.</summary>
    public int LineOf(int row) => _lines[row];

    public CsvColumn this[string column] =>
        _columns.FirstOrDefault(c => c.Name == column)
        ?? throw new ArgumentException($"{Name}: no column named '{column}' (columns: {string.Join(", ", _columns.Select(c => c.Name))})");

    /// <summary>
    /// The chosen columns (all when null) as a Float32 matrix [rows, features]. Numeric columns give one feature;
    /// categorical ones one per category (one-hot) or one index. Missing values are an error naming the column and
    /// lines unless <paramref name="fillMissing"/> is given (a missing category then one-hot encodes as all zeros).
    /// </summary>
    public Tensor ToTensor(IEnumerable<string>? columns = null, CategoricalEncoding encoding = CategoricalEncoding.OneHot, double? fillMissing = null)
    {
        var chosen = Choose(columns);
        if (fillMissing is null)
        {
            foreach (var c in chosen)
                if (c.MissingRows.Count > 0)
                    throw new InvalidDataException($"{Name}: column '{c.Name}' has {c.MissingRows.Count} missing values (lines {DescribeLines(c.MissingRows)}); pass fillMissing or clean the data");
        }
        int width = chosen.Sum(c => Width(c, encoding));
        var values = new float[RowCount * width];
        int offset = 0;
        foreach (var c in chosen)
        {
            for (int r = 0; r < RowCount; r++)
            {
                double v = c.Values[r];
                int o = r * width + offset;
                if (c.Type == CsvColumnType.Categorical && encoding == CategoricalEncoding.OneHot)
                {
                    if (!double.IsNaN(v)) values[o + (int)v] = 1;
                }
                else
                {
                    values[o] = (float)(double.IsNaN(v) ? fillMissing!.Value : v);
                }
            }
            offset += Width(c, encoding);
        }
        return Tensor.Wrap(values, RowCount, width);
    }

    /// <summary>The names of the features <see cref="ToTensor"/> produces, e.g. "age", "colour=red", "colour=blue".</summary>
    public string[] FeatureNames(IEnumerable<string>? columns = null, CategoricalEncoding encoding = CategoricalEncoding.OneHot) =>
        Choose(columns).SelectMany(c => c.Type == CsvColumnType.Categorical && encoding == CategoricalEncoding.OneHot
            ? c.Categories.Select(k => $"{c.Name}={k}")
            : [c.Name]).ToArray();

    /// <summary>
    /// A column as Int64 class indices [rows]: a categorical column's category indices, or a numeric column's values,
    /// which must be whole numbers. Missing labels are an error.
    /// </summary>
    public Tensor Labels(string column)
    {
        var c = this[column];
        if (c.MissingRows.Count > 0)
            throw new InvalidDataException($"{Name}: label column '{c.Name}' has {c.MissingRows.Count} missing values (lines {DescribeLines(c.MissingRows)})");
        var labels = new long[RowCount];
        for (int r = 0; r < labels.Length; r++)
        {
            double v = c.Values[r];
            if (v != Math.Floor(v) || Math.Abs(v) > 1L << 53)
                throw new InvalidDataException($"{Name}: label column '{c.Name}' has the non-integer value {v} at line {_lines[r]}");
            labels[r] = (long)v;
        }
        return Tensor.Wrap(labels, RowCount);
    }

    private CsvColumn[] Choose(IEnumerable<string>? columns) => columns is null ? _columns : columns.Select(n => this[n]).ToArray();

    private static int Width(CsvColumn c, CategoricalEncoding encoding) =>
        c.Type == CsvColumnType.Categorical && encoding == CategoricalEncoding.OneHot ? c.Categories.Count : 1;

    private string DescribeLines(IReadOnlyList<int> rows)
    {
        var shown = string.Join(", ", rows.Take(5).Select(r => _lines[r]));
        return rows.Count > 5 ? $"{shown}, …" : shown;
    }
}
