namespace Loom.Models;

/// <summary>
/// The kind of data `--data` names (a table, images…), as a task recognises it from the argument and a glance at the
/// file or folder, before anything is loaded. The kind picks the default model (an MLP for a table, a CNN for images)
/// and limits which models fit. Tasks for new kinds of data add their own instances.
/// </summary>
/// <param name="Name">A short name ("table").</param>
/// <param name="Description">How messages refer to it ("a CSV table").</param>
public sealed record DataKind(string Name, string Description)
{
    /// <summary>A CSV file of numeric and categorical columns.</summary>
    public static DataKind Table { get; } = new("table", "a CSV table");

    /// <summary>Images: a folder with one sub-folder per class, a folder of IDX files, or a built-in image dataset.</summary>
    public static DataKind Images { get; } = new("images", "images");

    public override string ToString() => Name;
}
