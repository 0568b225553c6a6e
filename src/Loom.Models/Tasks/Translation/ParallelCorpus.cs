namespace Loom.Models;

/// <summary>One aligned sentence pair and the book it comes from (held-out splits are by book).</summary>
public sealed record ParallelPair(string Book, string Source, string Target);

/// <summary>
/// Aligned source and target sentences, such as the verses of two Bible translations of one versification, with a
/// test split by book: no verse of a test book is in the training split, so the test measures translation of text
/// the model has not seen rather than recall of near-identical verses.
/// </summary>
public sealed class ParallelCorpus
{
    public ParallelCorpus(IReadOnlyList<ParallelPair> pairs, string description)
    {
        if (pairs.Count == 0) throw new ArgumentException($"{description}: no sentence pairs");
        (Pairs, Description) = (pairs, description);
    }

    public IReadOnlyList<ParallelPair> Pairs { get; }

    public string Description { get; }

    /// <summary>The books, in the order they first appear.</summary>
    public IReadOnlyList<string> Books => [.. Pairs.Select(p => p.Book).Distinct()];

    /// <summary>The verses two SWORD zText modules share, paired slot by slot (<see cref="SwordModule.Align"/>).</summary>
    public static ParallelCorpus FromSword(string sourceModule, string targetModule)
    {
        var pairs = SwordModule.Align(SwordModule.Read(sourceModule), SwordModule.Read(targetModule))
            .Select(p => new ParallelPair(p.Source.Book, p.Source.Text, p.Target.Text)).ToList();
        return new ParallelCorpus(pairs, $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(sourceModule))} → {Path.GetFileName(Path.TrimEndingDirectorySeparator(targetModule))}: {pairs.Count:N0} verse pairs");
    }

    /// <summary>
    /// A tab-separated file of source and target sentences, one pair a line, with an optional third column naming the
    /// pair's group (a book, a document) that the held-out split keeps whole; without it, each line's group is its
    /// tenth of the file, so the test split is a contiguous block rather than neighbours of training lines.
    /// </summary>
    /// <exception cref="InvalidDataException">A line without a tab or with more than three columns: names the file and line.</exception>
    public static ParallelCorpus FromTsv(string path)
    {
        var lines = File.ReadAllLines(path);
        var rows = new List<string[]>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var fields = lines[i].Split('\t');
            if (fields.Length is < 2 or > 3)
                throw new InvalidDataException($"{path}:{i + 1}: expected source<TAB>target or source<TAB>target<TAB>group, got {fields.Length} column{(fields.Length == 1 ? "" : "s")}");
            rows.Add([.. fields, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        if (rows.Count == 0) throw new InvalidDataException($"{path}: no sentence pairs");
        bool grouped = rows.All(r => r.Length == 4);
        if (!grouped && rows.Any(r => r.Length == 4))
            throw new InvalidDataException($"{path}:{rows.First(r => r.Length != rows[0].Length)[^1]}: some lines have a group column and some do not");
        var pairs = rows.Select((r, i) => new ParallelPair(grouped ? r[2] : Tenth(i, rows.Count), r[0], r[1])).ToList();
        return new ParallelCorpus(pairs, $"{Path.GetFileName(path)}: {pairs.Count:N0} sentence pairs");
    }

    /// <summary>
    /// Two text files of the same number of lines, line i of one translating line i of the other (blank lines on both
    /// sides left out); grouped by tenths of the file as <see cref="FromTsv"/> does without a group column.
    /// </summary>
    public static ParallelCorpus FromTextFiles(string sourcePath, string targetPath)
    {
        string[] source = File.ReadAllLines(sourcePath), target = File.ReadAllLines(targetPath);
        if (source.Length != target.Length)
            throw new InvalidDataException($"{sourcePath} has {source.Length} lines but {targetPath} has {target.Length}; aligned files need one line per sentence on both sides");
        var kept = Enumerable.Range(0, source.Length).Where(i => source[i].Trim().Length > 0 || target[i].Trim().Length > 0).ToList();
        foreach (int i in kept)
            if (source[i].Trim().Length == 0 || target[i].Trim().Length == 0)
                throw new InvalidDataException($"{(source[i].Trim().Length == 0 ? sourcePath : targetPath)}:{i + 1}: an empty line where the other file has a sentence");
        var pairs = kept.Select((line, k) => new ParallelPair(Tenth(k, kept.Count), source[line].Trim(), target[line].Trim())).ToList();
        return new ParallelCorpus(pairs, $"{Path.GetFileName(sourcePath)} → {Path.GetFileName(targetPath)}: {pairs.Count:N0} sentence pairs");
    }

    private static string Tenth(int index, int count) => $"part {index * 10 / count + 1}";

    /// <summary>
    /// Every <paramref name="every"/>-th book, starting at the <paramref name="first"/>-th (from 0), in corpus order: a
    /// spread over law, history, poetry, prophets and letters rather than one block of similar books.
    /// </summary>
    public IReadOnlyList<string> EveryNthBook(int every = 8, int first = 4) =>
        [.. Books.Where((_, i) => i >= first && (i - first) % every == 0)];

    /// <summary>The pairs of <paramref name="testBooks"/> as the test split, all others as training; each book whole in one split.</summary>
    public (List<ParallelPair> Train, List<ParallelPair> Test) SplitByBook(IReadOnlyCollection<string> testBooks)
    {
        var unknown = testBooks.Where(b => !Books.Contains(b)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"{Description}: no book {string.Join(", ", unknown)} (books: {string.Join(", ", Books)})");
        var test = new HashSet<string>(testBooks, StringComparer.Ordinal);
        return ([.. Pairs.Where(p => !test.Contains(p.Book))], [.. Pairs.Where(p => test.Contains(p.Book))]);
    }
}
