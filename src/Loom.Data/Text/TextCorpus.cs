namespace Loom.Data;

/// <summary>
/// Text to train a language model on: one or more documents, read from a plain-text file, a folder of them, or one
/// column of a CSV file (a document per row). Documents keep their order (files sorted by name), so a split by
/// position puts the same text in the same split every time.
/// </summary>
public sealed class TextCorpus
{
    /// <summary>The extensions a folder's text files may have.</summary>
    public static IReadOnlyList<string> TextExtensions { get; } = [".txt", ".text", ".md"];

    public TextCorpus(IReadOnlyList<string> documents, string description)
    {
        if (documents.Count == 0) throw new ArgumentException($"{description}: no text");
        Documents = documents;
        Description = description;
    }

    /// <summary>The documents, in order.</summary>
    public IReadOnlyList<string> Documents { get; }

    /// <summary>Where the text came from and how much there is, for messages and reports.</summary>
    public string Description { get; }

    /// <summary>Characters (UTF-16 code units) in all documents.</summary>
    public long Length => Documents.Sum(d => (long)d.Length);

    /// <summary>A text file (one document) or a folder of text files (one document each, by name, sub-folders included).</summary>
    public static TextCorpus Read(string path)
    {
        if (Directory.Exists(path)) return ReadFolder(path);
        if (File.Exists(path)) return ReadFile(path);
        throw new FileNotFoundException($"{path}: no such text file or folder", path);
    }

    /// <summary>One UTF-8 text file (a byte-order mark is dropped; line endings are normalised to \n).</summary>
    public static TextCorpus ReadFile(string path)
    {
        var text = ReadText(path);
        if (text.Length == 0) throw new InvalidDataException($"{path}: the file is empty");
        return new TextCorpus([text], $"{Path.GetFileName(path)}: {text.Length:N0} characters");
    }

    /// <summary>Every file with a text extension (<see cref="TextExtensions"/>) under <paramref name="folder"/>, sorted by relative path.</summary>
    public static TextCorpus ReadFolder(string folder)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => TextExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0) throw new InvalidDataException($"{folder}: no text files ({string.Join(", ", TextExtensions)}) in this folder");
        var documents = files.Select(ReadText).Where(t => t.Length > 0).ToList();
        if (documents.Count == 0) throw new InvalidDataException($"{folder}: all {files.Count} text files are empty");
        return new TextCorpus(documents, $"{folder}: {documents.Count} text files, {documents.Sum(d => (long)d.Length):N0} characters");
    }

    /// <summary>The cells of <paramref name="column"/> of a CSV file as documents, one per row, empty cells left out.</summary>
    public static TextCorpus ReadCsvColumn(string path, string column)
    {
        // Read as text: no cell is a number or a missing-value marker ("NA" is a word here).
        var table = CsvReader.Read(path, new CsvOptions
        {
            ColumnTypes = new Dictionary<string, CsvColumnType> { [column] = CsvColumnType.Categorical },
            MissingMarkers = new HashSet<string>(),
        });
        if (!table.Contains(column))
            throw new ArgumentException($"{path}: no column '{column}' (columns: {string.Join(", ", table.Columns.Select(c => c.Name))})");
        var cells = table[column];
        var documents = cells.Values.Select(v => Normalize(cells.Categories[(int)v])).Where(t => t.Length > 0).ToList();
        if (documents.Count == 0) throw new InvalidDataException($"{path}: column '{column}' holds no text");
        return new TextCorpus(documents, $"{Path.GetFileName(path)} column '{column}': {documents.Count:N0} rows, {documents.Sum(d => (long)d.Length):N0} characters");
    }

    /// <summary>
    /// A UTF-8 text file's content, strictly decoded (a byte that is not UTF-8, or a NUL, is one error naming the file
    /// and the offset), without a byte-order mark, line endings normalised to \n.
    /// </summary>
    public static string ReadText(string path)
    {
        var bytes = File.ReadAllBytes(path);
        // A NUL decodes as valid UTF-8, so binary files and UTF-16 text without a byte-order mark would otherwise be
        // read as text full of control characters; no text written for people holds one.
        int nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0)
            throw new InvalidDataException($"{path}: not UTF-8 text (a NUL byte at offset {nul}: a binary file, or UTF-16 text); convert text first (iconv -f UTF-16 -t UTF-8)");
        try
        {
            // Strict decoding: a Latin-1 file read as UTF-8 would otherwise turn into replacement characters silently.
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return Normalize(text);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{path}: not UTF-8 text (invalid byte at offset {e.Index}); convert it first (iconv -t UTF-8)");
        }
    }

    // A BOM is not text; "\r\n" and "\r" line endings become "\n" so that a model sees one newline token either way.
    private static string Normalize(string text) =>
        (text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text).ReplaceLineEndings("\n");
}
