using System.Text.Json.Serialization;

namespace Loom.Data;

/// <summary>How a CSV column's values are read: numbers, or categories (any other text).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CsvColumnType>))]
public enum CsvColumnType
{
    Numeric,
    Categorical,
}

/// <summary>How <see cref="CsvTable.ToTensor"/> turns a categorical column into features.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CategoricalEncoding>))]
public enum CategoricalEncoding
{
    /// <summary>One 0/1 feature per category ("colour=red", "colour=blue"…).</summary>
    OneHot,

    /// <summary>One feature holding the category's index in <see cref="CsvColumn.Categories"/>.</summary>
    Index,
}

/// <summary>Options of <see cref="CsvReader"/>.</summary>
public sealed record CsvOptions
{
    /// <summary>
    /// The field delimiter; null (the default) detects it from the header and the first lines among ',', tab, ';'
    /// and '|' (see <see cref="CsvReader.DetectedDelimiters"/>), respecting quoted fields.
    /// </summary>
    public char? Delimiter { get; init; }

    /// <summary>Whether the first record names the columns; without a header they are named "0", "1", … as pandas does.</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>Types for some or all columns, by name; the others are inferred (numeric when every present value parses as a number).</summary>
    public IReadOnlyDictionary<string, CsvColumnType>? ColumnTypes { get; init; }

    /// <summary>Field values (after trimming spaces) that mean "missing". Any spelling of NaN that parses as a number is missing too.</summary>
    public IReadOnlySet<string> MissingMarkers { get; init; } = new HashSet<string>(StringComparer.Ordinal) { "", "NA", "N/A", "NaN", "nan", "null", "NULL", "?" };
}
