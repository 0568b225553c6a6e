namespace Loom.Bench.Peers;

/// <summary>
/// Where the peer scripts are. A clone of the repository has them in <c>bench/peers</c>; every build also copies them
/// next to Loom.Bench's assembly (<c>peers/</c>), which is where an installed `loom` tool finds them.
/// </summary>
public static class PeerFolder
{
    /// <summary>Names a peers folder explicitly, for scripts kept elsewhere.</summary>
    public const string EnvironmentVariable = "LOOM_PEERS";

    /// <summary>The file that marks a peers folder: every peer imports it.</summary>
    public const string ProtocolScript = "peer_protocol.py";

    /// <summary>The peers folder for this process (see <see cref="Find(string?, string, string)"/>); null when there is none.</summary>
    public static string? Find() =>
        Find(Environment.GetEnvironmentVariable(EnvironmentVariable), Directory.GetCurrentDirectory(), AppContext.BaseDirectory);

    /// <summary>
    /// <paramref name="fromEnvironment"/> when set (null if that folder does not exist); else <c>bench/peers</c> in the
    /// nearest folder at or above <paramref name="workingDirectory"/>, then above <paramref name="assemblyDirectory"/>
    /// (a clone: its scripts, edited or not, are the ones to run); else <c>peers</c> beside the assembly.
    /// </summary>
    public static string? Find(string? fromEnvironment, string workingDirectory, string assemblyDirectory)
    {
        if (!string.IsNullOrEmpty(fromEnvironment))
            return File.Exists(Path.Combine(fromEnvironment, ProtocolScript)) ? Path.GetFullPath(fromEnvironment) : null;
        foreach (var start in new[] { workingDirectory, assemblyDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "bench", "peers");
                if (File.Exists(Path.Combine(candidate, ProtocolScript))) return candidate;
            }
        }
        var bundled = Path.Combine(assemblyDirectory, "peers");
        return File.Exists(Path.Combine(bundled, ProtocolScript)) ? Path.GetFullPath(bundled) : null;
    }
}
