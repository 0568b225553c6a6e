namespace Loom.Explain;

/// <summary>
/// The run folder's explain.md: one section per method that has been run (`loom explain --method …`, `loom
/// activations`), each kept in explain/&lt;key&gt;.md so that running one method again replaces its own section only.
/// </summary>
public static class ExplainReport
{
    /// <summary>Section keys in the order explain.md lists them; other keys follow alphabetically.</summary>
    public static readonly IReadOnlyList<string> Order = ["ig", "saliency", "smoothgrad", "occlusion", "permutation", "shap", "activations", "attention"];

    /// <summary>The folder for pictures and sections: &lt;run&gt;/explain, created if needed.</summary>
    public static string Folder(string runFolder) => Directory.CreateDirectory(Path.Combine(runFolder, "explain")).FullName;

    /// <summary>Stores <paramref name="markdown"/> as section <paramref name="key"/> and rewrites explain.md; returns its path.</summary>
    public static string WriteSection(string runFolder, string key, string markdown)
    {
        var folder = Folder(runFolder);
        File.WriteAllText(Path.Combine(folder, key + ".md"), markdown.TrimEnd() + "\n");
        var sections = Directory.GetFiles(folder, "*.md").Select(Path.GetFileNameWithoutExtension).OfType<string>()
            .OrderBy(k => Order.Contains(k) ? Order.ToList().IndexOf(k) : Order.Count).ThenBy(k => k, StringComparer.Ordinal);
        var report = "# What the model learned\n\nWritten by `loom explain` and `loom activations`; pictures are in explain/.\n\n"
            + string.Join("\n", sections.Select(k => File.ReadAllText(Path.Combine(folder, k + ".md"))));
        var path = Path.Combine(runFolder, "explain.md");
        File.WriteAllText(path, report);
        return path;
    }
}
