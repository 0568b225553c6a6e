namespace Loom.Data.Tests.Readers;

/// <summary>Files as they come from spreadsheets, pandas and downloads: other delimiters, odd numbers, cut-short archives, id columns.</summary>
public class CsvInputTests
{
    private static CsvTable Parse(string text, CsvOptions? options = null) => CsvReader.Read(new StringReader(text), "test.csv", options);

    private const string Iris = "f1;f2;f3;species\n5.1;3.5;1.4;setosa\n6.2;2.9;4.3;versicolor\n7.7;3.0;6.1;virginica\n";

    [Fact]
    public void Semicolon_and_tab_delimiters_are_detected_from_the_first_lines()
    {
        var semi = Parse(Iris);
        Assert.Equal(';', semi.Delimiter);
        Assert.Equal(new[] { "f1", "f2", "f3", "species" }, semi.Columns.Select(c => c.Name));
        Assert.Equal(new double[] { 5.1, 6.2, 7.7 }, semi["f1"].Values);
        var tab = Parse(Iris.Replace(';', '\t'));
        Assert.Equal('\t', tab.Delimiter);
        Assert.Equal(new[] { "setosa", "versicolor", "virginica" }, tab["species"].Categories);
        var pipe = Parse("a|b\n1|2\n");
        Assert.Equal(new double[] { 2 }, pipe["b"].Values);
    }

    [Fact]
    public void Delimiter_detection_respects_quotes_and_a_given_delimiter_wins()
    {
        // Every line holds one ';', but inside quotes: the file is comma-separated.
        var t = Parse("name,n\n\"a;b\",1\n\"c;d\",2\n");
        Assert.Equal(',', t.Delimiter);
        Assert.Equal(new[] { "a;b", "c;d" }, t["name"].Categories);
        // One column either way: a plain list of numbers stays a one-column comma file.
        Assert.Equal(new double[] { 1, 2 }, Parse("x\n1\n2\n")["x"].Values);

        var forced = Parse(Iris, new CsvOptions { Delimiter = ',' });
        Assert.Equal(',', forced.Delimiter);
        Assert.Single(forced.Columns);
        TensorAssert.Throws<ArgumentException>(() => _ = forced["species"], "no column named 'species'", "f1;f2;f3;species", "delimiter may be ';'");
    }

    [Fact]
    public void A_header_without_data_rows_is_an_error_from_the_reader()
    {
        TensorAssert.Throws<InvalidDataException>(() => Parse("a,b,c\n"), "test.csv", "no data rows", "only its header");
        TensorAssert.Throws<InvalidDataException>(() => Parse("a;b;c\n\n\n"), "no data rows");
        TensorAssert.Throws<InvalidDataException>(() => Parse("\n", new CsvOptions { HasHeader = false }), "no data rows");
    }

    [Fact]
    public void Infinities_parse_as_numbers_and_are_refused_as_features_naming_the_cell()
    {
        // pandas writes float('inf') as "inf"; .NET spells it "Infinity". Either keeps the column numeric.
        var t = Parse("x,y\n1,0\ninf,1\n-inf,0\n+Infinity,1\n2.5,0\n");
        Assert.Equal(CsvColumnType.Numeric, t["x"].Type);
        Assert.Equal(new[] { 1, double.PositiveInfinity, double.NegativeInfinity, double.PositiveInfinity, 2.5 }, t["x"].Values);
        TensorAssert.Throws<InvalidDataException>(() => t.ToTensor(), "test.csv", "column 'x'", "3 infinite values", "'inf' at line 3", "must be finite");
        Assert.Equal(new Shape(5, 1), t.ToTensor(["y"]).Shape);
        TensorAssert.Throws<InvalidDataException>(() => t.Labels("x"), "'x'", "inf", "line 3");
    }

    [Fact]
    public void Every_spelling_of_nan_is_a_missing_value_not_a_number()
    {
        var t = Parse("x\n1\nNAN\n-nan\n2\n");
        Assert.Equal(CsvColumnType.Numeric, t["x"].Type);
        Assert.Equal(new[] { 1, 2 }, t["x"].MissingRows);
        TensorAssert.Throws<InvalidDataException>(() => t.ToTensor(), "'x'", "2 missing values", "lines 3, 4");
    }

    [Fact]
    public void A_thousands_separator_or_decimal_comma_is_reported_not_read_as_a_category()
    {
        TensorAssert.Throws<InvalidDataException>(() => Parse("x,y\n1,0\n\"1,000\",1\n3,0\n"), "column 'x'", "'1,000' at line 3", "thousands separators", "categorical");
        // A semicolon file from a locale with a decimal comma: every cell of the column is such a number.
        TensorAssert.Throws<InvalidDataException>(() => Parse("a;b\n1,5;x\n2,25;y\n"), "column 'a'", "'1,5' at line 2", "decimal comma");
        var categorical = new CsvOptions { ColumnTypes = new Dictionary<string, CsvColumnType> { ["x"] = CsvColumnType.Categorical } };
        Assert.Equal(new[] { "1", "1,000", "3" }, Parse("x\n1\n\"1,000\"\n3\n", categorical)["x"].Categories); // declared categorical: accepted
    }

    [Fact]
    public void A_mostly_numeric_column_with_a_stray_word_is_reported_not_turned_categorical()
    {
        TensorAssert.Throws<InvalidDataException>(() => Parse("x,y\n1,a\n2,b\n3,c\nunknown,d\n"), "column 'x'", "1 of its cells is not", "'unknown' at line 5", "missing");
        // Mostly words with a few numbers, even formatted ones, is an ordinary categorical column.
        var t = Parse("c\nred\nblue\n3\ngreen\n\"1,000\"\n");
        Assert.Equal(CsvColumnType.Categorical, t["c"].Type);
        Assert.Equal(new[] { "1,000", "3", "blue", "green", "red" }, t["c"].Categories);
    }

    private static byte[] Gzip(string text)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(Encoding.UTF8.GetBytes(text));
        return ms.ToArray();
    }

    private static string Rows(int from, int count) =>
        string.Concat(Enumerable.Range(from, count).Select(i => $"{i},{i * 7 % 13},{i * 31 % 1000}.5\n"));

    [Fact]
    public void A_truncated_csv_gz_is_an_error_not_the_rows_before_the_cut()
    {
        using var dir = new TempDir();
        var bytes = Gzip("a,b,c\n" + Rows(0, 20000));
        File.WriteAllBytes(dir.File("whole.csv.gz"), bytes);
        Assert.Equal(20000, CsvReader.Read(dir.File("whole.csv.gz")).RowCount);
        foreach (int cut in new[] { bytes.Length / 2, bytes.Length - 9, bytes.Length - 4, bytes.Length - 1 })
        {
            File.WriteAllBytes(dir.File("cut.csv.gz"), bytes[..cut]);
            TensorAssert.Throws<InvalidDataException>(() => CsvReader.Read(dir.File("cut.csv.gz")), "cut.csv.gz", "truncated");
        }
        File.WriteAllBytes(dir.File("tiny.csv.gz"), bytes[..12]);
        TensorAssert.Throws<InvalidDataException>(() => CsvReader.Read(dir.File("tiny.csv.gz")), "tiny.csv.gz", "truncated");
    }

    [Fact]
    public void Concatenated_gzip_members_read_whole()
    {
        // `cat a.gz b.gz` is a valid gzip file; only the last member's trailer ends the file.
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("two.csv.gz"), [.. Gzip("a,b,c\n" + Rows(0, 3000)), .. Gzip(Rows(3000, 500))]);
        var t = CsvReader.Read(dir.File("two.csv.gz"));
        Assert.Equal(3500, t.RowCount);
        Assert.Equal(3499, t["a"].Values[^1]);
    }

    [Fact]
    public void A_column_of_20000_distinct_ids_is_refused_quickly_without_allocating_its_one_hot_matrix()
    {
        var text = new StringBuilder("user,x,label\n");
        for (int i = 0; i < 20000; i++) text.Append($"u{i * 7919 % 100003:D6},{i % 17 * 0.25},{i % 2}\n");
        var t = Parse(text.ToString());
        Assert.Equal(20000, t["user"].Categories.Count);
        long before = GC.GetAllocatedBytesForCurrentThread();
        TensorAssert.Throws<InvalidDataException>(() => t.ToTensor(["user", "x"]), "column 'user'", "20000 distinct values", "more than the 1000", "drop the column");
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 16 << 20); // one-hot would be 20000² floats = 1.6 GB
        Assert.Equal(new Shape(20000, 1), t.ToTensor(["x"]).Shape);
        Assert.Equal(new Shape(20000, 1), t.ToTensor(["user"], CategoricalEncoding.Index).Shape); // an index is one feature: allowed
    }

    [Fact]
    public void A_column_with_a_value_per_row_is_refused_as_an_identifier_even_when_small()
    {
        string Names(int n) => "name,y\n" + string.Concat(Enumerable.Range(0, n).Select(i => $"person{i},{i % 2}\n"));
        TensorAssert.Throws<InvalidDataException>(() => Parse(Names(CsvSchema.IdentifierMinRows)).ToTensor(["name"]), "'name'", "identifier", "20 distinct values in 20 rows");
        Assert.Equal(new Shape(19, 19), Parse(Names(CsvSchema.IdentifierMinRows - 1)).ToTensor(["name"]).Shape); // too few rows to tell
        // Many rows per category is an ordinary categorical column, however many rows.
        var colours = Parse("c,y\n" + string.Concat(Enumerable.Range(0, 400).Select(i => $"k{i % 37},{i % 2}\n")));
        Assert.Equal(new Shape(400, 37), colours.ToTensor(["c"]).Shape);
    }
}
