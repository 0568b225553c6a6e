namespace Loom.Data.Tests.Readers;

/// <summary>Features of new data built by column name exactly as from the training data (eval and predict on other files).</summary>
public class CsvSchemaTests
{
    private static CsvTable Parse(string text, string name = "test.csv") => CsvReader.Read(new StringReader(text), name);

    private const string Training = "age,colour,label\n31,red,yes\n22,blue,no\n40,green,yes\n35,red,no\n";

    [Fact]
    public void The_schema_of_the_training_table_builds_the_same_features_as_ToTensor()
    {
        var train = Parse(Training);
        var schema = CsvSchema.Of(train, ["age", "colour"]);
        Assert.Equal(new[] { "age", "colour=blue", "colour=green", "colour=red" }, schema.FeatureNames);
        Assert.Equal(4, schema.FeatureCount);
        Assert.Equal(train.ToTensor(["age", "colour"]).ToArray<float>(), schema.ToTensor(train).ToArray<float>());
        Assert.True(schema.Match(train) is { Missing.Count: 0, SameOrder: true } m && m.Extra.SequenceEqual(["label"]));
    }

    [Fact]
    public void Reordered_columns_and_a_subset_of_categories_are_matched_by_name()
    {
        var schema = CsvSchema.Of(Parse(Training), ["age", "colour"]);
        // Columns in another order, an extra column, and only two of the three colours: by position or by the file's
        // own categories this would be two features wide and misaligned.
        var other = Parse("colour,note,age\nred,x,50\nblue,y,18\n", "other.csv");
        var match = schema.Match(other);
        Assert.Empty(match.Missing);
        Assert.Equal(new[] { "note" }, match.Extra);
        Assert.False(match.SameOrder);
        Assert.False(match.IsExact);
        Assert.Equal(new float[] { 50, 0, 0, 1, 18, 1, 0, 0 }, schema.ToTensor(other).ToArray<float>());
        Assert.Equal(new Shape(2, 4), schema.ToTensor(other).Shape);
    }

    [Fact]
    public void Missing_columns_unknown_categories_and_changed_types_are_errors_naming_them()
    {
        var schema = CsvSchema.Of(Parse(Training), ["age", "colour"]);
        TensorAssert.Throws<InvalidDataException>(() => schema.ToTensor(Parse("Age,Colour\n1,red\n", "renamed.csv")),
            "renamed.csv", "lacks 2 columns", "'age', 'colour'", "its columns: Age, Colour");
        TensorAssert.Throws<InvalidDataException>(() => schema.ToTensor(Parse("age,colour\n1,red\n2,purple\n", "new.csv")),
            "new.csv", "line 3", "'colour'", "'purple'", "blue, green, red");
        TensorAssert.Throws<InvalidDataException>(() => schema.ToTensor(Parse("age,colour\nold,red\nyoung,blue\n", "text.csv")),
            "text.csv", "'age'", "holds text", "numeric");
        TensorAssert.Throws<InvalidDataException>(() => schema.ToTensor(Parse("age,colour\n1,red\n,blue\n", "gap.csv")), "'age'", "missing", "lines 3");
    }

    [Fact]
    public void Numeric_categories_match_by_value()
    {
        var types = new Dictionary<string, CsvColumnType> { ["grade"] = CsvColumnType.Categorical };
        var train = CsvReader.Read(new StringReader("grade\n1\n2\n10\n"), "train.csv", new CsvOptions { ColumnTypes = types });
        var schema = CsvSchema.Of(train);
        Assert.Equal(new[] { "grade=1", "grade=2", "grade=10" }, schema.FeatureNames);
        // Read without the declaration the new file's column is numeric; 10.0 is still category "10".
        var other = Parse("grade\n10.0\n1\n");
        Assert.Equal(new float[] { 0, 0, 1, 1, 0, 0 }, schema.ToTensor(other).ToArray<float>());
    }

    [Fact]
    public void The_schema_saves_and_loads_as_json()
    {
        using var dir = new TempDir();
        var schema = CsvSchema.Of(Parse(Training), ["colour", "age"], CategoricalEncoding.Index);
        schema.Save(dir.File("features.json"));
        Assert.Contains("\"Categorical\"", File.ReadAllText(dir.File("features.json")));
        var loaded = CsvSchema.Load(dir.File("features.json"));
        Assert.Equal(schema, loaded);
        Assert.Equal(new float[] { 2, 31, 0, 22, 1, 40, 2, 35 }, loaded.ToTensor(Parse(Training)).ToArray<float>());
        File.WriteAllText(dir.File("bad.json"), "{\"columns\": [{\"name\": \"a\", \"type\": \"Categorical\", \"categories\": []}]}");
        TensorAssert.Throws<InvalidDataException>(() => CsvSchema.Load(dir.File("bad.json")), "bad.json", "'a'", "0 categories");
        File.WriteAllText(dir.File("junk.json"), "[1, 2");
        TensorAssert.Throws<InvalidDataException>(() => CsvSchema.Load(dir.File("junk.json")), "junk.json", "not a CSV feature schema");
    }

    [Fact]
    public void Labels_map_to_a_given_class_list_by_name()
    {
        string[] classes = ["setosa", "versicolor", "virginica"];
        var t = Parse("x,species\n1,virginica\n2,setosa\n3,virginica\n");
        Assert.Equal(new long[] { 2, 0, 2 }, t.Labels("species", classes).ToArray<long>()); // its own categories would give 1, 0, 1
        TensorAssert.Throws<InvalidDataException>(() => Parse("species\nsetosa\nrose\n").Labels("species", classes),
            "line 3", "'rose'", "not one of the 3 classes", "setosa, versicolor, virginica");
        Assert.Equal(new long[] { 2, 0 }, Parse("y\n3\n1.0\n").Labels("y", ["1", "2", "3"]).ToArray<long>());
        TensorAssert.Throws<InvalidDataException>(() => Parse("y\n4\n").Labels("y", ["1", "2", "3"]), "'4'", "line 2");
    }
}
