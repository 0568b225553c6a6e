namespace Loom.Bench.Tests;

/// <summary>A folder under the temp directory, deleted with everything in it on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "loom-bench-tests-" + Guid.NewGuid().ToString("N"));

    /// <summary>Creates the file (and its folders) with <paramref name="text"/>; returns its full path.</summary>
    public string Write(string relative, string text = "")
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        return full;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
