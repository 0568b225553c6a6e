namespace Loom.Cli.Commands;

/// <summary>
/// A file a command writes where the user says (predictions, a picture, an ONNX model, benchmark results): checked
/// before any work is done, so that a mistake costs nothing, and written beside its destination then moved over it, so
/// that a failure never leaves half a file in its place.
/// </summary>
internal static class OutputFile
{
    /// <summary>
    /// The full path to write <paramref name="output"/> (given as <paramref name="option"/>) to. Refused whatever --force
    /// says: a folder, a folder that does not exist, one of the command's <paramref name="inputs"/>, a file inside
    /// <paramref name="runFolder"/> (its config, weights and checkpoint). Refused without <paramref name="force"/>: any
    /// other existing file.
    /// </summary>
    public static string Check(string output, string option, bool force, IEnumerable<string?> inputs, string? runFolder = null)
    {
        var path = Path.GetFullPath(output);
        if (Directory.Exists(path)) throw new UserErrorException($"{option} {output} is a folder; give the file to write");
        var real = RealPath(path);
        if (runFolder is not null && real.StartsWith(Path.TrimEndingDirectorySeparator(RealPath(runFolder)) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new UserErrorException($"{option} {output} is inside the run folder {runFolder}; write it elsewhere, so that no file of the run is replaced");
        foreach (var input in inputs)
            if (input is not null && File.Exists(input) && real == RealPath(input))
                throw new UserErrorException($"{option} {output} is the command's input {input}; write to another file");
        if (File.Exists(path) && !force) throw new UserErrorException($"{option} {output} exists; pass --force to overwrite it");
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder)) throw new UserErrorException($"{option} {output}: the folder {folder} does not exist");
        return path;
    }

    /// <summary>
    /// A folder a command fills (a new run folder) must be new or empty, apart from <paramref name="input"/>, a file the
    /// command reads from it: anything else there would be replaced (another run's config, weights and checkpoint).
    /// </summary>
    public static void RequireNewFolder(string path, string? input = null)
    {
        if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any(e => !IsInput(e, input)))
            throw new UserErrorException($"'{path}' already exists and is not empty; give another folder with --out");
    }

    private static bool IsInput(string entry, string? input) => input is not null && Path.GetFullPath(entry) == Path.GetFullPath(input);

    /// <summary>
    /// Runs <paramref name="fill"/>, which writes into the folder <paramref name="path"/> (checked by
    /// <see cref="RequireNewFolder"/>); if it fails, what it wrote goes: the folder, had it not existed, or else
    /// everything in it but <paramref name="input"/>. A failed command leaves no half run folder that looks finished.
    /// </summary>
    public static void FillNewFolder(string path, string? input, Action fill)
    {
        bool existed = Directory.Exists(path);
        try
        {
            fill();
        }
        catch
        {
            if (!existed && Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else if (existed)
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(path).ToList())
                {
                    if (IsInput(entry, input)) continue;
                    if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                    else File.Delete(entry);
                }
            }
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/>, given a temporary file beside it with the same
    /// extension (writers that pick a format by extension pick the same one), then moves that over the destination.
    /// </summary>
    public static void Write(string path, Action<string> write)
    {
        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Environment.ProcessId}.{Path.GetFileName(path)}");
        try
        {
            write(temp);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public static void WriteText(string path, string text) => Write(path, temp => File.WriteAllText(temp, text));

    // A link (or a link to a link) stands for the file it points to: writing through it would overwrite that file.
    private static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        FileSystemInfo info = Directory.Exists(full) ? new DirectoryInfo(full) : new FileInfo(full);
        return info.LinkTarget is null ? full : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
    }
}
