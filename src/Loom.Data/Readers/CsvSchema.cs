using System.Text.Json.Serialization;

namespace Loom.Data;

/// <summary>
/// How a table's columns become features: which columns, in which order, each one's type and (for a categorical
/// column) its categories. Learn it from the training table with <see cref="Of"/> and keep it with the model
/// (<see cref="Save"/>, or serialise the record with System.Text.Json); then <see cref="ToTensor"/> builds features
/// from any table exactly as from the training one: columns are found by name (their order and extra columns do not
/// matter), categories are one-hot encoded in the training table's order, and anything that cannot be matched (a
/// missing column, a column whose type changed, a category the model never saw) is an error that names it.
/// </summary>
/// <param name="Columns">The feature columns in feature order.</param>
/// <param name="Encoding">How categorical columns become features.</param>
public sealed record CsvSchema(IReadOnlyList<CsvSchemaColumn> Columns, CategoricalEncoding Encoding = CategoricalEncoding.OneHot)
{
    /// <summary>
    /// The most categories a column may have to be one-hot encoded. A column with more (a user or product id, free
    /// text, a timestamp) would add that many features per row, gigabytes for a modest file, and learn nothing that
    /// generalises; it has to be dropped or turned into numbers by hand.
    /// </summary>
    public const int MaxOneHotCategories = 1000;

    /// <summary>
    /// Columns with at least this many present values in which nearly every value is different (90% or more) are taken
    /// for identifiers or free text and refused for one-hot encoding, however few categories they have: each category
    /// occurs about once, so a model can only memorise it.
    /// </summary>
    public const int IdentifierMinRows = 20;

    /// <summary>
    /// The encoding of <paramref name="columns"/> (all when null) of <paramref name="table"/>: their types and categories.
    /// A categorical column with more than <see cref="MaxOneHotCategories"/> categories, or that looks like an
    /// identifier (see <see cref="IdentifierMinRows"/>), is refused for one-hot encoding with a message saying why.
    /// </summary>
    public static CsvSchema Of(CsvTable table, IEnumerable<string>? columns = null, CategoricalEncoding encoding = CategoricalEncoding.OneHot)
    {
        ArgumentNullException.ThrowIfNull(table);
        var chosen = columns is null ? table.Columns.ToArray() : columns.Select(n => table[n]).ToArray();
        var duplicate = chosen.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"{table.Name}: column '{duplicate.Key}' is chosen more than once");
        if (encoding == CategoricalEncoding.OneHot)
            foreach (var c in chosen.Where(c => c.Type == CsvColumnType.Categorical)) CheckOneHot(table, c);
        return new CsvSchema(chosen.Select(c => new CsvSchemaColumn(c.Name, c.Type, c.Categories.ToArray())).ToArray(), encoding);
    }

    private static void CheckOneHot(CsvTable table, CsvColumn c)
    {
        int distinct = c.Categories.Count, present = table.RowCount - c.MissingRows.Count;
        string example = string.Join(", ", c.Categories.Take(3).Select(k => $"'{k}'"));
        if (distinct > MaxOneHotCategories)
            throw new InvalidDataException($"{table.Name}: column '{c.Name}' has {distinct} distinct values ({example}, …), more than the {MaxOneHotCategories} " +
                "Loom one-hot encodes as features: drop the column from the features, or turn it into numbers first");
        if (present >= IdentifierMinRows && distinct >= 0.9 * present)
            throw new InvalidDataException($"{table.Name}: column '{c.Name}' looks like an identifier or free text ({distinct} distinct values in {present} rows, e.g. {example}): " +
                "one-hot features of values that occur once cannot generalise; drop the column from the features");
    }

    /// <summary>The feature names in order: "age", "colour=red", "colour=blue"… (one per category for one-hot columns).</summary>
    [JsonIgnore]
    public IReadOnlyList<string> FeatureNames => [.. Columns.SelectMany(c => IsOneHot(c) ? c.Categories.Select(k => $"{c.Name}={k}") : [c.Name])];

    /// <summary>The number of features <see cref="ToTensor"/> produces per row.</summary>
    [JsonIgnore]
    public int FeatureCount => Columns.Sum(Width);

    /// <summary>How <paramref name="table"/>'s columns line up with this schema's: missing and extra columns, and whether the order differs.</summary>
    public CsvColumnMatch Match(CsvTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var names = table.Columns.Select(c => c.Name).ToList();
        var wanted = Columns.Select(c => c.Name).ToList();
        var missing = wanted.Where(n => !names.Contains(n)).ToArray();
        var extra = names.Where(n => !wanted.Contains(n)).ToArray();
        bool sameOrder = names.Where(wanted.Contains).SequenceEqual(wanted.Where(names.Contains));
        return new CsvColumnMatch(missing, extra, sameOrder);
    }

    /// <summary>
    /// <paramref name="table"/>'s features as a Float32 matrix [rows, <see cref="FeatureCount"/>], columns found by name.
    /// Errors (each naming the column, and the line where there is one): a schema column the table lacks (all of them
    /// listed); a numeric column holding text; an infinite value (features must be finite: Loom refuses them rather
    /// than train on NaN losses); a category not in the schema; a missing value unless <paramref name="fillMissing"/>
    /// is given (a missing category then one-hot encodes as all zeros). Extra columns are ignored: see <see cref="Match"/>.
    /// </summary>
    public Tensor ToTensor(CsvTable table, double? fillMissing = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        var match = Match(table);
        if (match.Missing.Count > 0)
            throw new InvalidDataException($"{table.Name}: lacks {(match.Missing.Count == 1 ? "the column" : $"{match.Missing.Count} columns")} " +
                $"{CsvTable.Describe(match.Missing.Select(n => $"'{n}'"))} that the features are made of (its columns: {CsvTable.Describe(table.Columns.Select(c => c.Name), 20)})");
        var columns = Columns.Select(s => (Schema: s, Data: table[s.Name])).ToArray();
        foreach (var (s, c) in columns)
        {
            if (fillMissing is null && c.MissingRows.Count > 0)
                throw new InvalidDataException($"{table.Name}: column '{c.Name}' has {c.MissingRows.Count} missing values (lines {table.DescribeLines(c.MissingRows)}); pass fillMissing or clean the data");
            if (s.Type == CsvColumnType.Numeric && c.Type != CsvColumnType.Numeric)
                throw new InvalidDataException($"{table.Name}: column '{c.Name}' holds text (e.g. '{c.Categories.FirstOrDefault()}') but is numeric in the data the features were defined on");
            if (s.Type == CsvColumnType.Numeric)
            {
                var infinite = Enumerable.Range(0, table.RowCount).Where(r => double.IsInfinity(c.Values[r])).ToList();
                if (infinite.Count > 0)
                    throw new InvalidDataException($"{table.Name}: column '{c.Name}' has {infinite.Count} infinite value{(infinite.Count == 1 ? "" : "s")} ('{CsvTable.Show(c.Values[infinite[0]])}' at line {table.LineOf(infinite[0])}" +
                        $"{(infinite.Count > 1 ? $", lines {table.DescribeLines(infinite)}" : "")}); features must be finite, or training turns them into NaN: replace the cells or mark them missing");
            }
        }

        long size = (long)table.RowCount * FeatureCount;
        if (size > Array.MaxLength)
            throw new InvalidDataException($"{table.Name}: {table.RowCount} rows × {FeatureCount} features is too large for one tensor; use fewer columns or categories");
        int width = FeatureCount;
        var values = new float[size];
        int offset = 0;
        foreach (var (s, c) in columns)
        {
            var lookup = s.Type == CsvColumnType.Categorical ? new CategoryLookup(s.Categories) : null;
            for (int r = 0; r < table.RowCount; r++)
            {
                double v = c.Values[r];
                int o = r * width + offset;
                if (double.IsNaN(v))
                {
                    if (!IsOneHot(s)) values[o] = (float)fillMissing!.Value; // a missing category one-hot encodes as zeros
                    continue;
                }
                if (lookup is null)
                {
                    values[o] = (float)v;
                    continue;
                }
                int k = lookup.Find(c, r);
                if (k < 0)
                    throw new InvalidDataException($"{table.Name}: line {table.LineOf(r)}: column '{c.Name}' has the category '{CsvTable.CellText(c, r)}', " +
                        $"which is not one of the {s.Categories.Count} the features were defined with ({CsvTable.Describe(s.Categories)})");
                if (IsOneHot(s)) values[o + k] = 1;
                else values[o] = k;
            }
            offset += Width(s);
        }
        return Tensor.Wrap(values, table.RowCount, width);
    }

    private bool IsOneHot(CsvSchemaColumn c) => c.Type == CsvColumnType.Categorical && Encoding == CategoricalEncoding.OneHot;

    private int Width(CsvSchemaColumn c) => IsOneHot(c) ? c.Categories.Count : 1;

    public void Save(string path) => JsonFile.Write(path, this);

    public static CsvSchema Load(string path)
    {
        var schema = JsonFile.Read<CsvSchema>(path, "a CSV feature schema");
        if (schema?.Columns is null || schema.Columns.Any(c => c?.Name is null || c.Categories is null))
            throw new InvalidDataException($"{path}: a CSV feature schema needs \"columns\", each with \"name\", \"type\" and \"categories\"");
        var duplicate = schema.Columns.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidDataException($"{path}: column '{duplicate.Key}' appears more than once");
        var bad = schema.Columns.FirstOrDefault(c => (c.Type == CsvColumnType.Categorical) != (c.Categories.Count > 0));
        if (bad is not null) throw new InvalidDataException($"{path}: column '{bad.Name}' is {bad.Type} with {bad.Categories.Count} categories");
        return schema;
    }

    // Records compare lists by reference; schemas are equal when their columns are.
    public bool Equals(CsvSchema? other) => other is not null && Encoding == other.Encoding && Columns.SequenceEqual(other.Columns);

    public override int GetHashCode() => HashCode.Combine(Encoding, Columns.Count);
}

/// <summary>One feature column of a <see cref="CsvSchema"/>: its name, type and (categorical) categories in feature order.</summary>
public sealed record CsvSchemaColumn(string Name, CsvColumnType Type, IReadOnlyList<string> Categories)
{
    public bool Equals(CsvSchemaColumn? other) => other is not null && Name == other.Name && Type == other.Type && Categories.SequenceEqual(other.Categories);

    public override int GetHashCode() => HashCode.Combine(Name, Type, Categories.Count);
}

/// <summary>How a table's columns compare with a <see cref="CsvSchema"/>'s.</summary>
/// <param name="Missing">Schema columns the table lacks (<see cref="CsvSchema.ToTensor"/> refuses such a table).</param>
/// <param name="Extra">Table columns the schema does not use (ignored).</param>
/// <param name="SameOrder">Whether the shared columns come in the schema's order (they are matched by name either way).</param>
public sealed record CsvColumnMatch(IReadOnlyList<string> Missing, IReadOnlyList<string> Extra, bool SameOrder)
{
    /// <summary>The table has exactly the schema's columns, in its order.</summary>
    public bool IsExact => Missing.Count == 0 && Extra.Count == 0 && SameOrder;
}
