namespace Loom.Data;

/// <summary>One package's description: its one-line synopsis and the long description under it.</summary>
/// <param name="Package">The binary package.</param>
/// <param name="Source">The source package it is built from (the package itself when the stanza names no Source).</param>
/// <param name="Synopsis">The first line of the Description field.</param>
/// <param name="Text">The long description: paragraphs separated by a blank line, lines of a paragraph joined by spaces.</param>
/// <param name="Line">The line of the file its stanza starts on.</param>
public sealed record PackageDescription(string Package, string Source, string Synopsis, string Text, int Line);

/// <summary>
/// Package descriptions read from Debian control files: a `Description` field (or `Description-en`, as Translation-en
/// and `apt-cache show` write it) whose first line is the synopsis and whose continuation lines are the long
/// description, " ." lines separating its paragraphs (Debian policy 5.6.13). Packages without a long description
/// give no pair; a long description seen before (the same package for several architectures or versions, or
/// packages sharing one text) is kept once.
/// </summary>
public static class PackageDescriptions
{
    /// <summary>The descriptions of <paramref name="path"/> in file order, de-duplicated by their long description.</summary>
    /// <exception cref="InvalidDataException">Malformed control data, a stanza without Package, or no long descriptions at all: one line naming the file (and line).</exception>
    public static PackageDescriptionSet Read(string path)
    {
        var stanzas = ControlFile.Read(path);
        var kept = new List<PackageDescription>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int withoutLong = 0, duplicates = 0;
        foreach (var stanza in stanzas)
        {
            var package = stanza["Package"]?.Trim();
            if (string.IsNullOrEmpty(package))
                throw new InvalidDataException($"{path}: line {stanza.Line}: a stanza without a Package field (is the file cut short, or not a package index?)");
            var field = stanza["Description-en"] is not null ? "Description-en" : "Description";
            var description = stanza[field];
            if (description is null)
            {
                withoutLong++;
                continue;
            }
            int newline = description.IndexOf('\n');
            string synopsis = (newline < 0 ? description : description[..newline]).Trim();
            string text = newline < 0 ? "" : LongDescription(description[(newline + 1)..]);
            if (synopsis.Length == 0)
                throw new InvalidDataException($"{path}: line {stanza.LineOf(field)}: package {package} has an empty synopsis (the first line of {field})");
            if (text.Length == 0)
            {
                withoutLong++;
                continue;
            }
            if (!seen.Add(Normalise(text)))
            {
                duplicates++;
                continue;
            }
            kept.Add(new PackageDescription(package, SourceName(stanza["Source"]) ?? package, synopsis, text, stanza.Line));
        }
        if (kept.Count == 0)
            throw new InvalidDataException(stanzas.Count == 0
                ? $"{path}: no package stanzas; give a package index such as `apt-cache show` output or /var/lib/dpkg/status"
                : $"{path}: none of its {stanzas.Count:N0} packages has a long description (Debian's Packages files and `apt-cache dumpavail` keep only the synopsis " +
                  "since the long ones moved to Translation-en); see tools/make_package_descriptions.sh, or give /var/lib/dpkg/status");
        return new PackageDescriptionSet(kept, stanzas.Count, withoutLong, duplicates);
    }

    /// <summary>
    /// The long description of a Description field's continuation lines: the leading space of each line removed, " ."
    /// lines as paragraph breaks, lines of a paragraph joined by single spaces (lines starting with two spaces,
    /// which policy shows verbatim, too: the words are what matter here).
    /// </summary>
    public static string LongDescription(string continuation)
    {
        var paragraphs = new List<string>();
        var words = new List<string>();
        foreach (var raw in continuation.Split('\n'))
        {
            var line = raw.Trim();
            if (line == ".")
            {
                if (words.Count > 0) paragraphs.Add(string.Join(' ', words));
                words.Clear();
                continue;
            }
            if (line.Length > 0) words.Add(string.Join(' ', line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));
        }
        if (words.Count > 0) paragraphs.Add(string.Join(' ', words));
        return string.Join("\n\n", paragraphs);
    }

    // "bash (5.2.15-2)" names the source bash at another version than the binary's.
    private static string? SourceName(string? field)
    {
        if (string.IsNullOrWhiteSpace(field)) return null;
        var name = field.Trim();
        int space = name.IndexOf(' ');
        return space < 0 ? name : name[..space];
    }

    private static string Normalise(string text) => string.Join(' ', text.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}

/// <summary>The descriptions of one file and what was left out of it.</summary>
/// <param name="Descriptions">The pairs kept, in file order.</param>
/// <param name="Stanzas">Package stanzas in the file.</param>
/// <param name="WithoutLongDescription">Stanzas with a synopsis only (or no Description).</param>
/// <param name="Duplicates">Stanzas whose long description an earlier one had.</param>
public sealed record PackageDescriptionSet(IReadOnlyList<PackageDescription> Descriptions, int Stanzas, int WithoutLongDescription, int Duplicates);
