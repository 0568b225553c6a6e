namespace Loom.Data.Tests.Text;

public class TextTableTests
{
    private static string Write(TempDir dir, string name, string text, bool bom = false)
    {
        var path = dir.File(name);
        File.WriteAllText(path, text, new UTF8Encoding(bom));
        return path;
    }

    [Fact]
    public void A_headed_file_keeps_quoted_commas_line_breaks_and_doubled_quotes_and_the_line_each_row_starts_on()
    {
        using var dir = new TempDir();
        var path = Write(dir, "reviews.csv", "text,label\n\"good, very \"\"good\"\"\",pos\n\"two\nlines\",neg\nplain words,pos\n", bom: true);
        var table = TextTable.Read(path, "text", "label");
        Assert.True(table.HasHeader);
        Assert.Equal(["good, very \"good\"", "two\nlines", "plain words"], table.Texts);
        Assert.Equal(["pos", "neg", "pos"], table.Labels!);
        Assert.Equal([2, 3, 5], table.Lines);
    }

    [Fact]
    public void A_file_without_a_header_names_columns_by_number_and_picks_the_wordiest_as_text()
    {
        using var dir = new TempDir();
        // The Pang & Lee layout: a BOM, "label","text", no header line.
        var path = Write(dir, "polarity.csv", "\"1\",\"a fine and moving film\"\n\"-1\",\"dull , flat and far too long\"\n", bom: true);
        var picked = TextTable.Read(path);
        Assert.False(picked.HasHeader);
        Assert.Equal(("1", "0"), (picked.TextColumn, picked.LabelColumn));
        Assert.Equal(["1", "-1"], picked.Labels!);
        var named = TextTable.Read(path, "1", "0");
        Assert.Equal(picked.Texts, named.Texts);
        Assert.Equal(2, named.Count);
    }

    [Fact]
    public void A_short_headed_file_without_options_is_read_with_its_header()
    {
        using var dir = new TempDir();
        var path = Write(dir, "t.csv", "label,sentence\n0,the plot goes nowhere at all\n1,a joy to watch from start to end\n");
        var table = TextTable.Read(path);
        Assert.True(table.HasHeader);
        Assert.Equal(("sentence", "label"), (table.TextColumn, table.LabelColumn));
        Assert.Equal(["0", "1"], table.Labels!);
    }

    [Fact]
    public void New_text_may_come_without_its_label_column()
    {
        using var dir = new TempDir();
        var path = Write(dir, "new.csv", "text\nsome new words to classify\n");
        var table = TextTable.Read(path, "text", "label", labelsRequired: false);
        Assert.Null(table.Labels);
        Assert.Equal(["some new words to classify"], table.Texts);
    }

    [Fact]
    public void An_empty_text_or_label_cell_is_refused_with_the_file_and_line()
    {
        using var dir = new TempDir();
        var text = Write(dir, "a.csv", "text,label\nfine words,pos\n\"\",neg\n");
        var e = Assert.Throws<InvalidDataException>(() => TextTable.Read(text, "text", "label"));
        Assert.Equal($"{text}: line 3: the text column 'text' is empty", e.Message);
        var label = Write(dir, "b.csv", "text,label\nfine words,pos\nmore words,\n");
        e = Assert.Throws<InvalidDataException>(() => TextTable.Read(label, "text", "label"));
        Assert.Equal($"{label}: line 3: the label column 'label' is empty", e.Message);
    }

    [Fact]
    public void A_truncated_quote_or_ragged_row_is_refused_with_the_file_and_line()
    {
        using var dir = new TempDir();
        var unclosed = Write(dir, "cut.csv", "text,label\nfine words,pos\n\"cut off in the mid");
        var e = Assert.Throws<InvalidDataException>(() => TextTable.Read(unclosed, "text", "label"));
        Assert.Contains(unclosed, e.Message);
        Assert.Contains("line 3", e.Message);
        var ragged = Write(dir, "ragged.csv", "text,label\nfine words,pos\nmore words,neg,extra\n");
        e = Assert.Throws<InvalidDataException>(() => TextTable.Read(ragged, "text", "label"));
        Assert.Contains("line 3 has 3 fields", e.Message);
    }

    [Fact]
    public void A_column_the_file_lacks_is_named_in_the_error_with_what_the_first_line_holds()
    {
        using var dir = new TempDir();
        var path = Write(dir, "t.csv", "text,label\nfine words,pos\n");
        var e = Assert.Throws<ArgumentException>(() => TextTable.Read(path, "review", "label"));
        Assert.StartsWith($"{path}: no column 'review' (the first line holds 'text', 'label'", e.Message);
        var three = Write(dir, "three.csv", "id,text,label\n1,fine words here,pos\n");
        e = Assert.Throws<ArgumentException>(() => TextTable.Read(three));
        Assert.Contains("name the label column with --target", e.Message);
    }

    [Fact]
    public void Only_files_with_a_wordy_column_among_few_columns_look_like_text()
    {
        using var dir = new TempDir();
        Assert.True(TextTable.LooksLikeText(Write(dir, "t.csv", "\"1\",\"a fine and moving film about grief\"\n\"-1\",\"dull , flat and far too long\"\n")));
        Assert.False(TextTable.LooksLikeText(Write(dir, "n.csv", "a,b,label\n1.5,2,x\n3,4,y\n")));
        Assert.False(TextTable.LooksLikeText(Write(dir, "wide.csv", "a,b,c,d,e\nsome words in here now,1,2,3,4\nmore words in here now,1,2,3,4\n")));
        Assert.False(TextTable.LooksLikeText(Write(dir, "t.txt", "1,a fine and moving film about grief\n")));
    }
}
