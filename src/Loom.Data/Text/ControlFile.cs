using System.IO.Compression;

namespace Loom.Data;

/// <summary>One stanza of a Debian control file: its fields in order (names as written) and the line it starts on.</summary>
public sealed class ControlStanza
{
    private readonly List<(string Name, string Value, int Line)> _fields = [];

    internal ControlStanza(int line) => Line = line;

    /// <summary>The 1-based line of the stanza's first field.</summary>
    public int Line { get; }

    /// <summary>Field names in the order written.</summary>
    public IEnumerable<string> Names => _fields.Select(f => f.Name);

    /// <summary>
    /// The value of field <paramref name="name"/> (names compare without case, as Debian policy says), or null: the text
    /// after the colon with its leading space removed, then each continuation line as written (its leading space kept),
    /// joined by '\n'.
    /// </summary>
    public string? this[string name] => _fields.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>The line field <paramref name="name"/> starts on, or null when the stanza lacks it.</summary>
    public int? LineOf(string name)
    {
        int i = _fields.FindIndex(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
        return i < 0 ? null : _fields[i].Line;
    }

    internal bool Has(string name) => _fields.Any(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));

    internal void Add(string name, string value, int line) => _fields.Add((name, value, line));

    internal void Append(string continuation)
    {
        var (name, value, line) = _fields[^1];
        _fields[^1] = (name, value + "\n" + continuation, line);
    }

}

/// <summary>
/// Debian's RFC 822-style control files (deb822): what `apt-cache dumpavail` and `apt-cache show` print, the Packages and
/// Translation-en indexes under /var/lib/apt/lists and /var/lib/dpkg/status. Stanzas of "Field: value" lines, a value
/// continued on lines that start with a space or tab, stanzas separated by blank lines; lines starting with '#' are
/// comments. A .gz file is read through gzip.
/// </summary>
public static class ControlFile
{
    /// <summary>
    /// The stanzas of <paramref name="path"/>, in order.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// A line that is neither a field, a continuation nor blank; a continuation with no field before it; a field given
    /// twice in one stanza; a compressed file Loom cannot open: one line naming the file and line.
    /// </exception>
    public static List<ControlStanza> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        using var stream = Open(path);
        using var reader = new StreamReader(stream, detectEncodingFromByteOrderMarks: true);
        return Read(reader, path);
    }

    /// <summary>The stanzas of the text <paramref name="reader"/> holds; <paramref name="name"/> names it in errors.</summary>
    public static List<ControlStanza> Read(TextReader reader, string name)
    {
        var stanzas = new List<ControlStanza>();
        ControlStanza? current = null;
        int lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Contains('\0')) throw new InvalidDataException($"{name}: line {lineNumber}: a NUL byte; not a text control file");
            if (line.Trim().Length == 0)
            {
                current = null;
                continue;
            }
            if (line[0] == '#') continue;
            if (line[0] is ' ' or '\t')
            {
                if (current is null) throw new InvalidDataException($"{name}: line {lineNumber}: a continuation line (starting with a space) with no field before it");
                current.Append(line);
                continue;
            }
            int colon = line.IndexOf(':');
            if (colon <= 0 || line.AsSpan(0, colon).ContainsAny(' ', '\t'))
                throw new InvalidDataException($"{name}: line {lineNumber}: expected 'Field: value', a continuation line starting with a space, or a blank line; got '{Shorten(line)}'");
            var field = line[..colon];
            if (current is null)
            {
                current = new ControlStanza(lineNumber);
                stanzas.Add(current);
            }
            else if (current.Has(field))
                throw new InvalidDataException($"{name}: line {lineNumber}: field '{field}' given twice in the stanza that starts on line {current.Line} (is a blank line missing?)");
            current.Add(field, line[(colon + 1)..].TrimStart(' ', '\t').TrimEnd(), lineNumber);
        }
        return stanzas;
    }

    private static Stream Open(string path)
    {
        var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        int read = file.Read(magic);
        file.Position = 0;
        if (read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return new GZipStream(file, CompressionMode.Decompress);
        // apt keeps its lists lz4-, xz- or zstd-compressed; .NET reads none of them, so say how to get plain text.
        string? kind = read < 4 ? null
            : magic[0] == 0x04 && magic[1] == 0x22 && magic[2] == 0x4d && magic[3] == 0x18 ? "lz4"
            : magic[0] == 0xfd && magic[1] == 0x37 && magic[2] == 0x7a && magic[3] == 0x58 ? "xz"
            : magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd ? "zstd"
            : null;
        if (kind is not null)
        {
            file.Dispose();
            throw new InvalidDataException($"{path}: {kind}-compressed; decompress it first (e.g. `/usr/lib/apt/apt-helper cat-file {path} > packages.txt`) or give `apt-cache show`/`apt-cache dumpavail` output");
        }
        return file;
    }

    private static string Shorten(string line) => line.Length <= 40 ? line : line[..39] + "…";
}
