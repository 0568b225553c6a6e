namespace Loom.Nn.Serialization;

/// <summary>
/// Writes a file so that readers only ever see the old content or the complete new content: the bytes go to a
/// temporary file in the same folder, are flushed to disk, and the temporary file is then renamed over the target.
/// A rename within one file system is atomic, so a crash or an exception mid-write never leaves a truncated file under
/// the final name, and a failed write leaves any previous file untouched and no temporary file behind.
/// </summary>
/// <remarks>
/// The rename itself reaches the disk when the file system next commits its metadata; .NET offers no portable way to
/// fsync a directory, so after a power cut the folder may still show the previous file (never a partial one).
/// </remarks>
public static class AtomicFile
{
    /// <summary>
    /// Calls <paramref name="write"/> with a stream to fill, then replaces <paramref name="path"/> with what it wrote.
    /// The callback must leave the stream open (pass <c>leaveOpen: true</c> to writers that wrap it).
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)
            ?? throw new ArgumentException($"AtomicFile.Write: '{path}' names no file inside a folder", nameof(path));
        string temporary = TemporaryPathFor(directory, Path.GetFileName(fullPath));
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                if (!stream.CanWrite)
                    throw new InvalidOperationException($"AtomicFile.Write: the callback closed the stream, so '{path}' could not be flushed to disk and was not replaced; leave the stream open (leaveOpen: true)");
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>A hidden, unique name next to the target (same folder, so the final rename stays on one file system).</summary>
    private static string TemporaryPathFor(string directory, string fileName)
    {
        // Keep the name well under the usual 255-byte limit once the suffix is added.
        string stem = fileName.Length > 100 ? fileName[..100] : fileName;
        return Path.Combine(directory, $".{stem}.{Guid.NewGuid():N}.tmp");
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The original exception matters more than a leftover temporary file.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
