namespace Loom.Data.Tests.Readers;

public class CsvTests
{
    private static CsvTable Parse(string text, CsvOptions? options = null) => CsvReader.Read(new StringReader(text), "test.csv", options);

    [Fact]
    public void Columns_are_typed_by_inference_and_categories_sorted()
    {
        var t = Parse("age,colour,score\n31,red,1.5\n22,blue,-2e3\n40,red,0\n");
        Assert.Equal(3, t.RowCount);
        Assert.Equal(CsvColumnType.Numeric, t["age"].Type);
        Assert.Equal(CsvColumnType.Categorical, t["colour"].Type);
        Assert.Equal(new[] { "blue", "red" }, t["colour"].Categories);
        Assert.Equal(new double[] { 1, 0, 1 }, t["colour"].Values);
        Assert.Equal(new double[] { 1.5, -2000, 0 }, t["score"].Values);
    }

    [Fact]
    public void Categorical_columns_encode_one_hot_or_as_indices()
    {
        var t = Parse("x,c\n1,b\n2,a\n3,c\n4,b\n");
        var onehot = t.ToTensor();
        Assert.Equal(new Shape(4, 4), onehot.Shape);
        Assert.Equal(new[] { "x", "c=a", "c=b", "c=c" }, t.FeatureNames());
        Assert.Equal(new float[] { 1, 0, 1, 0, 2, 1, 0, 0, 3, 0, 0, 1, 4, 0, 1, 0 }, onehot.ToArray<float>());
        var index = t.ToTensor(["c", "x"], CategoricalEncoding.Index);
        Assert.Equal(new float[] { 1, 1, 0, 2, 2, 3, 1, 4 }, index.ToArray<float>());
        Assert.Equal(new long[] { 1, 0, 2, 1 }, t.Labels("c").ToArray<long>());
        Assert.Equal(new long[] { 1, 2, 3, 4 }, t.Labels("x").ToArray<long>());
    }

    [Fact]
    public void Given_types_override_inference_and_numeric_categories_sort_as_numbers()
    {
        var types = new Dictionary<string, CsvColumnType> { ["label"] = CsvColumnType.Categorical };
        var t = Parse("label\n10\n2\n1\n2\n", new CsvOptions { ColumnTypes = types });
        Assert.Equal(new[] { "1", "2", "10" }, t["label"].Categories);
        Assert.Equal(new long[] { 2, 1, 0, 1 }, t.Labels("label").ToArray<long>());
        var numeric = new Dictionary<string, CsvColumnType> { ["n"] = CsvColumnType.Numeric };
        TensorAssert.Throws<InvalidDataException>(() => Parse("n\n1\nabc\n", new CsvOptions { ColumnTypes = numeric }), "test.csv", "'n'", "line 3", "'abc'");
        TensorAssert.Throws<ArgumentException>(() => Parse("n\n1\n", new CsvOptions { ColumnTypes = new Dictionary<string, CsvColumnType> { ["m"] = CsvColumnType.Numeric } }), "'m'");
    }

    [Fact]
    public void Quoted_fields_may_hold_delimiters_quotes_and_newlines()
    {
        var t = Parse("id,text,n\r\n1,\"hello, world\",2\r\n2,\"say \"\"hi\"\"\",3\r\n3,\"two\nlines\",4\r\n4,,5\r\n");
        Assert.Equal(new[] { "hello, world", "say \"hi\"", "two\nlines" }, t["text"].Categories);
        Assert.Equal(4, t.RowCount);
        Assert.Equal(new double[] { 2, 3, 4, 5 }, t["n"].Values);
        Assert.Equal(new[] { 2, 3, 4, 6 }, Enumerable.Range(0, 4).Select(t.LineOf)); // the quoted newline spans lines 4–5
        Assert.Equal(new[] { new CsvMissingValue("text", 3, 6) }, t.Missing);
    }

    [Fact]
    public void Missing_values_are_reported_by_column_row_and_line()
    {
        var t = Parse("a,b,c\n1,x,3\n\n,y,NA\n4,?,6\n");
        Assert.Equal(
            new[] { new CsvMissingValue("a", 1, 4), new CsvMissingValue("c", 1, 4), new CsvMissingValue("b", 2, 5) },
            t.Missing);
        Assert.Equal(new[] { 1 }, t["a"].MissingRows);
        Assert.True(double.IsNaN(t["c"].Values[1]));
        Assert.Equal(new[] { "x", "y" }, t["b"].Categories); // "?" is a missing marker, not a category
        TensorAssert.Throws<InvalidDataException>(() => t.ToTensor(), "test.csv", "'a'", "1 missing", "lines 4");
        var filled = t.ToTensor(["a", "b"], fillMissing: -1);
        Assert.Equal(new float[] { 1, 1, 0, -1, 0, 1, 4, 0, 0 }, filled.ToArray<float>());
        TensorAssert.Throws<InvalidDataException>(() => t.Labels("b"), "'b'", "missing", "lines 5");
    }

    [Fact]
    public void Ragged_rows_are_rejected_naming_the_line()
    {
        TensorAssert.Throws<InvalidDataException>(() => Parse("a,b,c\n1,2,3\n4,5\n"), "test.csv", "line 3 has 2 fields", "header has 3");
        TensorAssert.Throws<InvalidDataException>(() => Parse("a,b\n1,2\n\"x,y\",3,4\n"), "line 3 has 3 fields");
        TensorAssert.Throws<InvalidDataException>(() => Parse("a,b\n1,\"open\n"), "line 2", "not closed");
        TensorAssert.Throws<InvalidDataException>(() => Parse("a,b\n1,\"x\"y\n"), "line 2", "after a closing quote");
        TensorAssert.Throws<InvalidDataException>(() => Parse("a,a\n1,2\n"), "'a'", "more than once");
        TensorAssert.Throws<InvalidDataException>(() => Parse(""), "empty");
    }

    [Fact]
    public void A_file_with_a_BOM_and_a_header_reads_from_disk_and_gzipped()
    {
        using var dir = new TempDir();
        var text = "\"label\",\"text\"\n1,\"good, really\"\n-1,bad\n";
        File.WriteAllText(dir.File("p.csv"), text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(0xEF, File.ReadAllBytes(dir.File("p.csv"))[0]);
        var t = CsvReader.Read(dir.File("p.csv"));
        Assert.Equal(new[] { "label", "text" }, t.Columns.Select(c => c.Name));
        Assert.Equal(new long[] { 1, -1 }, t.Labels("label").ToArray<long>());
        using (var gz = new System.IO.Compression.GZipStream(File.Create(dir.File("p.csv.gz")), System.IO.Compression.CompressionLevel.Fastest))
            gz.Write(Encoding.UTF8.GetBytes(text));
        Assert.Equal(new[] { "bad", "good, really" }, CsvReader.Read(dir.File("p.csv.gz"))["text"].Categories);
    }

    [Fact]
    public void Without_a_header_columns_are_numbered_and_other_delimiters_work()
    {
        var t = Parse("1;2;3\n4;5;6\n", new CsvOptions { HasHeader = false, Delimiter = ';' });
        Assert.Equal(new[] { "0", "1", "2" }, t.Columns.Select(c => c.Name));
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, t.ToTensor().ToArray<float>());
        Assert.Equal(new Shape(2, 3), t.ToTensor().Shape);
    }

    [Fact]
    public void Non_integer_labels_are_refused()
    {
        TensorAssert.Throws<InvalidDataException>(() => Parse("y\n1.5\n").Labels("y"), "'y'", "1.5", "line 2");
        TensorAssert.Throws<ArgumentException>(() => Parse("y\n1\n").Labels("z"), "no column named 'z'", "y");
    }
}
