using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Text.RegularExpressions;

namespace Loom.Data;

/// <summary>
/// A Bible text in the SWORD project's zText module format, as Debian's sword-text-* packages ship them: per testament
/// (ot, nt) an index of 10 bytes per verse slot (<c>.bzv</c>: block u32, offset u32, size u16), an index of 12 bytes per
/// compressed block (<c>.bzs</c>: offset u32, compressed size u32, uncompressed size u32) and the zlib-compressed blocks
/// themselves (<c>.bzz</c>), all little-endian. Slots follow the module's versification (headings of the testament,
/// each book and chapter, then the verses), so two modules of one versification align slot by slot. OSIS markup is
/// stripped (notes dropped whole), entities decoded and spaces collapsed.
/// </summary>
public sealed partial class SwordModule
{
    private SwordModule(string folder, IReadOnlyList<SwordVerse> verses) => (Folder, Verses) = (folder, verses);

    public string Folder { get; }

    /// <summary>Every verse slot with text (headings of books and chapters left out), in order: ot, then nt.</summary>
    public IReadOnlyList<SwordVerse> Verses { get; }

    /// <summary>Reads the ot and nt files of a zText module folder (either may be missing, not both).</summary>
    /// <exception cref="InvalidDataException">A truncated or malformed file: the message names it and the place (entry, block, byte).</exception>
    public static SwordModule Read(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such SWORD module folder");
        var verses = new List<SwordVerse>();
        bool any = false;
        foreach (var testament in new[] { "ot", "nt" })
        {
            if (!File.Exists(Path.Combine(folder, testament + ".bzv"))) continue;
            any = true;
            verses.AddRange(ReadTestament(folder, testament));
        }
        if (!any) throw new FileNotFoundException($"{folder}: not a SWORD zText module (no ot.bzv or nt.bzv)");
        return new SwordModule(folder, verses);
    }

    private static List<SwordVerse> ReadTestament(string folder, string testament)
    {
        string bzv = Path.Combine(folder, testament + ".bzv"), bzs = Path.Combine(folder, testament + ".bzs"), bzz = Path.Combine(folder, testament + ".bzz");
        foreach (var f in new[] { bzs, bzz })
            if (!File.Exists(f)) throw new FileNotFoundException($"{f}: missing; a zText testament needs its .bzv, .bzs and .bzz files", f);
        byte[] slots = File.ReadAllBytes(bzv), blockIndex = File.ReadAllBytes(bzs), data = File.ReadAllBytes(bzz);
        if (slots.Length % 10 != 0) throw new InvalidDataException($"{bzv}: {slots.Length} bytes is not a whole number of 10-byte verse entries; the file is truncated");
        if (blockIndex.Length % 12 != 0) throw new InvalidDataException($"{bzs}: {blockIndex.Length} bytes is not a whole number of 12-byte block entries; the file is truncated");
        int blockCount = blockIndex.Length / 12;
        var blocks = new byte[]?[blockCount];
        var bookNames = new string?[blockCount];

        byte[] Block(int b)
        {
            if (blocks[b] is { } done) return done;
            var entry = blockIndex.AsSpan(b * 12, 12);
            uint offset = BinaryPrimitives.ReadUInt32LittleEndian(entry), size = BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]), unpacked = BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
            if ((ulong)offset + size > (ulong)data.Length)
                throw new InvalidDataException($"{bzz}: block {b} (bytes {offset}–{(ulong)offset + size}) runs past the end of the file ({data.Length} bytes); the file is truncated");
            var output = new MemoryStream();
            try
            {
                using var zlib = new ZLibStream(new MemoryStream(data, (int)offset, (int)size, writable: false), CompressionMode.Decompress);
                zlib.CopyTo(output);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{bzz}: block {b} at byte {offset} is not valid zlib data ({e.Message})");
            }
            if (output.Length != unpacked)
                throw new InvalidDataException($"{bzz}: block {b} at byte {offset} unpacks to {output.Length} bytes, but {bzs} says {unpacked}; the data is damaged");
            return blocks[b] = output.ToArray();
        }

        var verses = new List<SwordVerse>();
        for (int slot = 0; slot < slots.Length / 10; slot++)
        {
            var entry = slots.AsSpan(slot * 10, 10);
            uint block = BinaryPrimitives.ReadUInt32LittleEndian(entry), offset = BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
            ushort size = BinaryPrimitives.ReadUInt16LittleEndian(entry[8..]);
            if (size == 0) continue;
            if (block >= blockCount)
                throw new InvalidDataException($"{bzv}: verse entry {slot} points to block {block}, but {bzs} lists {blockCount} blocks");
            var bytes = Block((int)block);
            if (offset + size > bytes.Length)
                throw new InvalidDataException($"{bzv}: verse entry {slot} (block {block}, bytes {offset}–{offset + size}) lies outside its block's {bytes.Length} bytes");
            string raw;
            try
            {
                raw = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, (int)offset, size);
            }
            catch (DecoderFallbackException)
            {
                throw new InvalidDataException($"{bzz}: verse entry {slot} (block {block}, byte {offset}) is not UTF-8 text");
            }
            if (BookStart().Match(raw) is { Success: true } book) bookNames[block] = book.Groups[1].Value;
            // Book and chapter headings are slots too; only verses are text to translate.
            if (BookStart().IsMatch(raw) || ChapterStart().IsMatch(raw)) continue;
            var text = Strip(raw);
            if (text.Length == 0) continue;
            verses.Add(new SwordVerse(testament, slot, (int)block, bookNames[block] ?? $"{testament} block {block}", text));
        }
        return verses;
    }

    /// <summary>Plain text of OSIS markup: notes dropped with their content, other tags dropped, entities decoded, spaces collapsed.</summary>
    public static string Strip(string osis)
    {
        var text = Note().Replace(osis, " ");
        text = Tag().Replace(text, "");
        text = WebUtility.HtmlDecode(text);
        return Spaces().Replace(text, " ").Trim();
    }

    /// <summary>
    /// Pairs the verses two modules of one versification hold in the same slot (the same testament and index), in order;
    /// a verse one module lacks is left out.
    /// </summary>
    public static List<(SwordVerse Source, SwordVerse Target)> Align(SwordModule source, SwordModule target)
    {
        var byKey = target.Verses.ToDictionary(v => (v.Testament, v.Slot));
        return [.. source.Verses.Where(v => byKey.ContainsKey((v.Testament, v.Slot))).Select(v => (v, byKey[(v.Testament, v.Slot)]))];
    }

    [GeneratedRegex(@"<note\b[^>]*?(?<!/)>.*?</note>", RegexOptions.Singleline)]
    private static partial Regex Note();

    [GeneratedRegex(@"<[^>]*>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"<div\b[^>]*\bosisID=""([^""]+)""[^>]*\btype=""book""")]
    private static partial Regex BookStart();

    [GeneratedRegex(@"^\s*<chapter\b[^>]*\bsID=[^>]*/>\s*$")]
    private static partial Regex ChapterStart();
}

/// <summary>One verse of a SWORD module: its testament (ot, nt), slot in that testament's index, compressed block, book (OSIS id, "Gen") and plain text.</summary>
public sealed record SwordVerse(string Testament, int Slot, int Block, string Book, string Text);
