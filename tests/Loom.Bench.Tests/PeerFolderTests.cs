namespace Loom.Bench.Tests;

public class PeerFolderTests
{
    [Fact]
    public void A_clone_finds_its_own_bench_peers_from_any_subfolder_without_LOOM_PEERS()
    {
        using var clone = new TempFolder();
        clone.Write("bench/peers/peer_protocol.py");
        var deep = Path.Combine(clone.Path, "src", "Loom.Cli", "bin");
        Directory.CreateDirectory(deep);
        using var elsewhere = new TempFolder();
        Assert.Equal(Path.Combine(clone.Path, "bench", "peers"), PeerFolder.Find(null, deep, elsewhere.Path));
        // Started from outside the clone, the program's own location leads there.
        Assert.Equal(Path.Combine(clone.Path, "bench", "peers"), PeerFolder.Find(null, elsewhere.Path, deep));
    }

    [Fact]
    public void Outside_a_clone_the_copy_beside_the_program_is_used()
    {
        using var program = new TempFolder();
        program.Write("peers/peer_protocol.py");
        using var elsewhere = new TempFolder();
        Assert.Equal(Path.Combine(program.Path, "peers"), PeerFolder.Find(null, elsewhere.Path, program.Path));
        Assert.Null(PeerFolder.Find(null, elsewhere.Path, elsewhere.Path));
    }

    [Fact]
    public void LOOM_PEERS_wins_and_a_folder_without_the_protocol_script_is_no_peers_folder()
    {
        using var clone = new TempFolder();
        clone.Write("bench/peers/peer_protocol.py");
        using var mine = new TempFolder();
        mine.Write("peer_protocol.py");
        Assert.Equal(mine.Path, PeerFolder.Find(mine.Path, clone.Path, clone.Path));
        using var empty = new TempFolder();
        empty.Write("bench/peers/README.md");
        Assert.Null(PeerFolder.Find(empty.Path, clone.Path, clone.Path));
        Assert.Null(PeerFolder.Find(null, empty.Path, empty.Path));
    }

    [Fact]
    public void This_repository_has_every_known_peer_in_bench_peers_and_beside_the_built_program()
    {
        // The tests run from inside the clone: what a user who clones the repository gets.
        var found = PeerFolder.Find(null, AppContext.BaseDirectory, AppContext.BaseDirectory);
        Assert.NotNull(found);
        Assert.Equal(Path.Combine("bench", "peers"), Path.GetRelativePath(Path.GetFullPath(Path.Combine(found, "..", "..")), found));
        var bundled = Path.Combine(AppContext.BaseDirectory, "peers");
        foreach (var (_, script, _) in PeerSet.Known)
        {
            Assert.True(File.Exists(Path.Combine(found, script)), $"{script} missing from {found}");
            Assert.True(File.Exists(Path.Combine(bundled, script)), $"{script} not copied beside the program ({bundled})");
        }
        Assert.True(File.Exists(Path.Combine(bundled, PeerFolder.ProtocolScript)));
    }
}
