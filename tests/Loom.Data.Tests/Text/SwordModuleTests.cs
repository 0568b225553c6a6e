namespace Loom.Data.Tests.Text;

public class SwordModuleTests
{
    /// <summary>Writes one testament of a zText module: each block a list of slots (null: an empty slot), zlib-compressed one block at a time.</summary>
    private static void WriteTestament(string folder, string testament, params string?[][] blocks)
    {
        Directory.CreateDirectory(folder);
        var bzz = new MemoryStream();
        var bzs = new MemoryStream();
        var bzv = new MemoryStream();
        for (int b = 0; b < blocks.Length; b++)
        {
            var text = new MemoryStream();
            foreach (var slot in blocks[b])
            {
                var bytes = slot is null ? [] : Encoding.UTF8.GetBytes(slot);
                WriteSlot(bzv, (uint)b, (uint)text.Length, (ushort)bytes.Length);
                text.Write(bytes);
            }
            var packed = new MemoryStream();
            using (var zlib = new ZLibStream(packed, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(text.ToArray());
            Write(bzs, (uint)bzz.Length, (uint)packed.Length, (uint)text.Length);
            bzz.Write(packed.ToArray());
        }
        File.WriteAllBytes(Path.Combine(folder, testament + ".bzz"), bzz.ToArray());
        File.WriteAllBytes(Path.Combine(folder, testament + ".bzs"), bzs.ToArray());
        File.WriteAllBytes(Path.Combine(folder, testament + ".bzv"), bzv.ToArray());

        static void WriteSlot(Stream s, uint block, uint offset, ushort size)
        {
            Span<byte> buffer = stackalloc byte[10];
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, block);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[4..], offset);
            BinaryPrimitives.WriteUInt16LittleEndian(buffer[8..], size);
            s.Write(buffer);
        }

        static void Write(Stream s, uint a, uint b, uint c)
        {
            Span<byte> buffer = stackalloc byte[12];
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, a);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[4..], b);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[8..], c);
            s.Write(buffer);
        }

    }

    // A testament as osis2mod writes it: the testament heading block, then one block per book with its book and
    // chapter heading slots before the verses.
    private static void WriteGenesis(string folder, string verse1, string? verse2)
    {
        WriteTestament(folder, "ot",
            [null, "<milestone type=\"x-importer\"/>"],
            ["<div canonical=\"true\" osisID=\"Gen\" sID=\"g1\" type=\"book\"/> <title type=\"main\">Genesis</title>", "<chapter n=\"1\" osisID=\"Gen.1\" sID=\"Gen.1\"/>", verse1, verse2],
            ["<div canonical=\"true\" osisID=\"Exod\" sID=\"g2\" type=\"book\"/>", "<chapter n=\"1\" osisID=\"Exod.1\" sID=\"Exod.1\"/> ", "Now these <w lemma=\"x\">are</w> the names"]);
    }

    [Fact]
    public void Verses_are_read_without_headings_markup_or_notes_and_know_their_book()
    {
        using var dir = new TempDir();
        WriteGenesis(dir.Path, "In the <w lemma=\"strong:H7225\">beginning</w><note type=\"x\">Or, <i>first</i></note> God &amp; the  heaven.", "And the earth");
        var module = SwordModule.Read(dir.Path);
        Assert.Equal(["In the beginning God & the heaven.", "And the earth", "Now these are the names"], module.Verses.Select(v => v.Text));
        Assert.Equal(["Gen", "Gen", "Exod"], module.Verses.Select(v => v.Book));
        Assert.Equal([4, 5, 8], module.Verses.Select(v => v.Slot));
    }

    [Fact]
    public void Two_modules_align_slot_by_slot_and_a_verse_one_lacks_is_left_out()
    {
        using var dir = new TempDir();
        WriteGenesis(Path.Combine(dir.Path, "en"), "In the beginning", "And the earth");
        WriteGenesis(Path.Combine(dir.Path, "es"), "En el principio", null);
        var pairs = SwordModule.Align(SwordModule.Read(Path.Combine(dir.Path, "en")), SwordModule.Read(Path.Combine(dir.Path, "es")));
        Assert.Equal([("In the beginning", "En el principio"), ("Now these are the names", "Now these are the names")], pairs.Select(p => (p.Source.Text, p.Target.Text)));
    }

    [Fact]
    public void A_truncated_index_or_data_file_is_refused_naming_the_file_and_place()
    {
        using var dir = new TempDir();
        WriteGenesis(dir.Path, "In the beginning", "And the earth");
        string bzv = Path.Combine(dir.Path, "ot.bzv"), bzz = Path.Combine(dir.Path, "ot.bzz"), bzs = Path.Combine(dir.Path, "ot.bzs");
        var original = (bzv: File.ReadAllBytes(bzv), bzz: File.ReadAllBytes(bzz), bzs: File.ReadAllBytes(bzs));

        File.WriteAllBytes(bzv, original.bzv[..^3]);
        var e = Assert.Throws<InvalidDataException>(() => SwordModule.Read(dir.Path));
        Assert.StartsWith($"{bzv}: {original.bzv.Length - 3} bytes is not a whole number of 10-byte verse entries", e.Message);
        File.WriteAllBytes(bzv, original.bzv);

        File.WriteAllBytes(bzz, original.bzz[..^5]);
        e = Assert.Throws<InvalidDataException>(() => SwordModule.Read(dir.Path));
        Assert.StartsWith($"{bzz}: block 2 (bytes ", e.Message);
        Assert.Contains("runs past the end of the file", e.Message);

        var garbled = (byte[])original.bzz.Clone();
        garbled[0] = 0x00; garbled[1] = 0x00; // no zlib header at block 0
        File.WriteAllBytes(bzz, garbled);
        e = Assert.Throws<InvalidDataException>(() => SwordModule.Read(dir.Path));
        Assert.StartsWith($"{bzz}: block 0 at byte 0 is not valid zlib data", e.Message);
        File.WriteAllBytes(bzz, original.bzz);

        // Slot 4's size enlarged past its block's end.
        var slots = (byte[])original.bzv.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(slots.AsSpan(4 * 10 + 8), 5000);
        File.WriteAllBytes(bzv, slots);
        e = Assert.Throws<InvalidDataException>(() => SwordModule.Read(dir.Path));
        Assert.StartsWith($"{bzv}: verse entry 4 (block 1, bytes ", e.Message);

        BinaryPrimitives.WriteUInt16LittleEndian(slots.AsSpan(4 * 10 + 8), 3);
        BinaryPrimitives.WriteUInt32LittleEndian(slots.AsSpan(4 * 10), 9);
        File.WriteAllBytes(bzv, slots);
        e = Assert.Throws<InvalidDataException>(() => SwordModule.Read(dir.Path));
        Assert.Equal($"{bzv}: verse entry 4 points to block 9, but {bzs} lists 3 blocks", e.Message);
    }

    [Fact]
    public void A_folder_without_a_module_is_refused()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => SwordModule.Read(dir.Path));
        Assert.Contains("not a SWORD zText module", e.Message);
    }

    public static readonly InstalledData Bibles = new("the KJV and Reina-Valera 1909 SWORD modules", "apt-get install sword-text-kjv sword-text-sparv",
        "/usr/share/sword/modules/texts/ztext/engKJV2006eb/ot.bzv", "/usr/share/sword/modules/texts/ztext/spaRV1909eb/ot.bzv");

    public sealed class BiblesFactAttribute() : InstalledDataFactAttribute(Bibles);

    [BiblesFact]
    public void The_packaged_kjv_and_reina_valera_align_verse_by_verse_across_66_books()
    {
        Bibles.Require();
        var en = SwordModule.Read("/usr/share/sword/modules/texts/ztext/engKJV2006eb");
        var es = SwordModule.Read("/usr/share/sword/modules/texts/ztext/spaRV1909eb");
        var pairs = SwordModule.Align(en, es);
        Assert.InRange(pairs.Count, 30_000, 31_102);
        Assert.Equal(66, pairs.Select(p => p.Source.Book).Distinct().Count());
        Assert.All(pairs, p => Assert.Equal(p.Source.Book, p.Target.Book));
        var first = pairs[0];
        Assert.Equal("Gen", first.Source.Book);
        Assert.StartsWith("In the beginning God created the heaven and the earth", first.Source.Text);
        Assert.StartsWith("EN el principio crió Dios los cielos y la tierra", first.Target.Text);
        Assert.DoesNotContain(pairs, p => p.Source.Text.Contains('<') || p.Target.Text.Contains('<'));
    }
}
