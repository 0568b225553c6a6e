namespace Loom.Data.Tests.Text;

public class TextDataTests
{
    [Fact]
    public void A_folder_reads_its_text_files_in_name_order_with_line_endings_normalised()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("sub"));
        File.WriteAllText(dir.File("b.txt"), "second\r\nline");
        File.WriteAllText(dir.File("a.txt"), "\uFEFFfirst");
        File.WriteAllText(dir.File("sub/c.md"), "third");
        File.WriteAllText(dir.File("image.png"), "not text");
        var corpus = TextCorpus.Read(dir.Path);
        Assert.Equal(["first", "second\nline", "third"], corpus.Documents);
    }

    [Fact]
    public void A_csv_text_column_gives_one_document_per_row_even_for_numbers_and_NA()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("t.csv"), "id,text\n1,\"Hello, world\"\n2,NA\n3,42\n4,\n");
        var corpus = TextCorpus.ReadCsvColumn(dir.File("t.csv"), "text");
        Assert.Equal(["Hello, world", "NA", "42"], corpus.Documents);
        var e = Assert.Throws<ArgumentException>(() => TextCorpus.ReadCsvColumn(dir.File("t.csv"), "body"));
        Assert.Contains("id, text", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_utf8_is_refused_with_its_name()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("latin1.txt"), [0x63, 0x61, 0x66, 0xE9, 0x20, 0x61]);
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.Read(dir.File("latin1.txt")));
        Assert.Contains("latin1.txt", e.Message);
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void A_binary_or_utf16_file_is_refused_although_its_bytes_decode_as_utf8()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("notes"), System.Text.Encoding.Unicode.GetBytes("plain words")); // UTF-16 LE, no byte-order mark
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.Read(dir.File("notes")));
        Assert.StartsWith(dir.File("notes") + ": not UTF-8 text (a NUL byte at offset 1", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Windows_have_targets_shifted_by_one_and_stay_inside_the_stream()
    {
        int[] tokens = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
        var windows = TokenWindows.Create(tokens, context: 4);
        Assert.Equal(2, windows.Count); // starts 0 and 4; a window at 8 would need tokens 8..12
        Assert.Equal(new long[] { 10, 11, 12, 13, 14, 15, 16, 17 }, windows.Inputs.ToArray<long>());
        Assert.Equal(new long[] { 11, 12, 13, 14, 15, 16, 17, 18 }, windows.Targets.ToArray<long>());
        Assert.Equal(3, TokenWindows.Create(tokens, context: 4, stride: 2).Count);
        Assert.Equal(0, TokenWindows.Create(tokens, context: 10).Count);
    }

    [Fact]
    public void A_split_by_position_is_consecutive_and_disjoint()
    {
        var tokens = Enumerable.Range(0, 100).ToArray();
        var (train, validation, test) = TokenWindows.SplitByPosition(tokens, 0.1, 0.2);
        Assert.Equal(Enumerable.Range(0, 70), train);
        Assert.Equal(Enumerable.Range(70, 10), validation);
        Assert.Equal(Enumerable.Range(80, 20), test);
    }
}
