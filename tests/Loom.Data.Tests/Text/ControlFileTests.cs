namespace Loom.Data.Tests.Text;

/// <summary>Debian control files (apt-cache output, Packages, Translation-en, dpkg status) and the package descriptions in them, read from small files the tests write.</summary>
public sealed class ControlFileTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Write(string text, string name = "packages.txt")
    {
        var path = _temp.File(name);
        File.WriteAllText(path, text.ReplaceLineEndings("\n"));
        return path;
    }

    private const string TwoPackages = """
        Package: foo
        Source: foo-src (1.2-1)
        Version: 1.2-1+b1
        Depends: libc6 (>= 2.34),
         libbar1
        Description: frobnicate widgets
         Foo frobnicates widgets quickly.
         It reads   many formats.
         .
         This package holds the command-line tool.
        Description-md5: 0123

        # a comment between stanzas
        Package: libfoo-dev
        Description: frobnicate widgets - development files
         Foo frobnicates widgets quickly.
          verbatim line
        """;

    [Fact]
    public void Stanzas_keep_fields_continuations_and_the_line_they_start_on()
    {
        var stanzas = ControlFile.Read(Write(TwoPackages));
        Assert.Equal(2, stanzas.Count);
        Assert.Equal((1, 14), (stanzas[0].Line, stanzas[1].Line));
        Assert.Equal(["Package", "Source", "Version", "Depends", "Description", "Description-md5"], stanzas[0].Names);
        Assert.Equal("libc6 (>= 2.34),\n libbar1", stanzas[0]["Depends"]);
        Assert.Equal("foo", stanzas[0]["package"]); // field names compare without case
        Assert.Equal(6, stanzas[0].LineOf("Description"));
        Assert.Null(stanzas[1]["Source"]);
    }

    [Fact]
    public void Descriptions_split_into_synopsis_and_paragraphs_with_the_source_package_named()
    {
        var set = PackageDescriptions.Read(Write(TwoPackages));
        Assert.Equal(2, set.Descriptions.Count);
        var foo = set.Descriptions[0];
        Assert.Equal(("foo", "foo-src", "frobnicate widgets"), (foo.Package, foo.Source, foo.Synopsis));
        Assert.Equal("Foo frobnicates widgets quickly. It reads many formats.\n\nThis package holds the command-line tool.", foo.Text);
        var dev = set.Descriptions[1];
        Assert.Equal(("libfoo-dev", "libfoo-dev", 14), (dev.Package, dev.Source, dev.Line)); // no Source field: its own source
        Assert.Equal("Foo frobnicates widgets quickly. verbatim line", dev.Text);
    }

    [Fact]
    public void Repeated_long_descriptions_and_synopsis_only_stanzas_are_left_out_and_counted()
    {
        var path = Write("""
            Package: a
            Description-en: first
             Same text here.

            Package: a
            Architecture: i386
            Description-en: first (again)
             same  TEXT here.

            Package: b
            Description: synopsis only
            Description-md5: 4567

            Package: c
            Description: third
             Other text.
            """);
        var set = PackageDescriptions.Read(path);
        Assert.Equal(["a", "c"], set.Descriptions.Select(d => d.Package));
        Assert.Equal((4, 1, 1), (set.Stanzas, set.WithoutLongDescription, set.Duplicates));
    }

    [Fact]
    public void An_index_without_long_descriptions_says_where_they_went()
    {
        var path = Write("Package: a\nDescription: only a synopsis\n\nPackage: b\nDescription: another\n");
        var error = Assert.Throws<InvalidDataException>(() => PackageDescriptions.Read(path));
        Assert.StartsWith($"{path}: none of its 2 packages has a long description", error.Message);
        Assert.Contains("Translation-en", error.Message);
    }

    [Theory]
    [InlineData("Package: a\nDescription: x\n more\n continuation\nDescrip", 5, "expected 'Field: value'")] // cut short mid-field
    [InlineData(" a continuation\nPackage: a\n", 1, "continuation line")]
    [InlineData("Package: a\nVersion: 1\nPackage: b\n", 3, "field 'Package' given twice in the stanza that starts on line 1")]
    [InlineData("Package: a\nbad field: x\n", 2, "expected 'Field: value'")]
    [InlineData("Package: a\n\0\0\0\n", 2, "NUL byte")]
    public void Malformed_and_truncated_files_name_the_file_and_line(string text, int line, string fragment)
    {
        var path = Write(text);
        var error = Assert.Throws<InvalidDataException>(() => ControlFile.Read(path));
        Assert.StartsWith($"{path}: line {line}: ", error.Message);
        Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void A_stanza_without_a_package_field_is_named_by_its_line()
    {
        var path = Write("Package: a\nDescription: x\n y\n\nVersion: 2\nDescription: z\n w\n");
        var error = Assert.Throws<InvalidDataException>(() => PackageDescriptions.Read(path));
        Assert.StartsWith($"{path}: line 5: a stanza without a Package field", error.Message);
    }

    [Fact]
    public void Gzip_files_are_read_and_apt_lz4_lists_refused_with_a_way_out()
    {
        var gz = _temp.File("Packages.gz");
        using (var stream = new GZipStream(File.Create(gz), CompressionLevel.Fastest))
        using (var writer = new StreamWriter(stream))
            writer.Write("Package: a\nDescription: s\n long text\n");
        Assert.Equal("long text", Assert.Single(PackageDescriptions.Read(gz).Descriptions).Text);

        var lz4 = _temp.File("Packages.lz4");
        File.WriteAllBytes(lz4, [0x04, 0x22, 0x4d, 0x18, 0, 0, 0, 0]);
        var error = Assert.Throws<InvalidDataException>(() => ControlFile.Read(lz4));
        Assert.StartsWith($"{lz4}: lz4-compressed; decompress it first", error.Message);
    }
}
