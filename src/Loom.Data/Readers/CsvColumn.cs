namespace Loom.Data;

/// <summary>
/// One column of a <see cref="CsvTable"/>. Numeric columns hold their values; categorical columns hold each row's
/// index into <see cref="Categories"/>. Missing values are NaN in <see cref="Values"/> and listed in <see cref="MissingRows"/>.
/// </summary>
public sealed class CsvColumn
{
    internal CsvColumn(string name, CsvColumnType type, double[] values, string[] categories, int[] missingRows)
    {
        Name = name;
        Type = type;
        Values = values;
        Categories = categories;
        MissingRows = missingRows;
    }

    public string Name { get; }

    public CsvColumnType Type { get; }

    /// <summary>Per row: the number (numeric) or the category index (categorical); NaN where missing.</summary>
    public IReadOnlyList<double> Values { get; }

    /// <summary>The distinct values of a categorical column, sorted (numerically when they are all numbers); empty for numeric columns.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>The 0-based data rows whose value is missing.</summary>
    public IReadOnlyList<int> MissingRows { get; }

    public override string ToString() => $"{Name} ({Type}{(Type == CsvColumnType.Categorical ? $", {Categories.Count} categories" : "")}, {MissingRows.Count} missing)";
}

/// <summary>A missing value: its column, its 0-based data row and its 1-based line in the file.</summary>
public readonly record struct CsvMissingValue(string Column, int Row, int Line);
