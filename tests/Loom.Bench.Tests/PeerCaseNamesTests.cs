using System.Text.RegularExpressions;

namespace Loom.Bench.Tests;

/// <summary>The peer cases Loom's benchmarks ask for exist in the peer scripts (a renamed case would silently drop a comparison).</summary>
public partial class PeerCaseNamesTests
{
    [Fact]
    public void Every_peer_case_a_benchmark_names_is_defined_by_its_peer()
    {
        var peers = PeerFolder.Find(null, AppContext.BaseDirectory, AppContext.BaseDirectory)!;
        var benchSources = Path.Combine(peers, "..", "Loom.Bench");
        var defined = PeerSet.Known.ToDictionary(k => k.Name, k => File.ReadAllText(Path.Combine(peers, k.Script)));
        int checkedCases = 0;
        foreach (var file in Directory.GetFiles(benchSources, "*.cs", SearchOption.AllDirectories))
        {
            var source = File.ReadAllText(file);
            // Cases named inline: report.Peers.Setup("torch", "conv2d/forward", ...).
            foreach (Match m in InlineSetup().Matches(source))
                checkedCases += Check(defined, m.Groups[1].Value, m.Groups[2].Value, file);
            // Cases named in a table and set up with a variable: every "area/name" literal of a file that sets up that peer.
            foreach (Match peer in SetupPeer().Matches(source))
                foreach (Match literal in CaseLiteral().Matches(source))
                    checkedCases += Check(defined, peer.Groups[1].Value, literal.Groups[1].Value, file);
        }
        Assert.True(checkedCases >= 10, $"only {checkedCases} case names found in the benchmarks: has the way they name cases changed?");
    }

    private static int Check(Dictionary<string, string> defined, string peer, string @case, string file)
    {
        Assert.True(defined.ContainsKey(peer), $"{Path.GetFileName(file)} names an unknown peer '{peer}'");
        Assert.True(defined[peer].Contains($"\"{@case}\"", StringComparison.Ordinal), $"{Path.GetFileName(file)} asks peer {peer} for case '{@case}', which it does not define");
        return 1;
    }

    [GeneratedRegex(@"Peers\.Setup\(""(\w+)"",\s*""([^""]+)""")]
    private static partial Regex InlineSetup();

    [GeneratedRegex(@"Peers\.Setup\(""(\w+)"",\s*[^""\s]")]
    private static partial Regex SetupPeer();

    [GeneratedRegex(@"""((?:trainstep|infer|conv2d)/[^""]+)""")]
    private static partial Regex CaseLiteral();
}
