using Loom.Bench;
using Loom.Bench.Comparison;

// Usage: Loom.Bench SUITE [--json FILE] [--quick] [--threads 1,2] [--only a,b] [--peers] [--rounds N] [--case gpt,mlp] [--profile] [--copies N]
// SUITE is kernels, train, distributed or all. `loom bench` in Loom.Cli calls the same BenchRunner.
// The distributed benchmarks start MPI jobs whose ranks run this program as `Loom.Bench __rank-server`.
if (args is [Loom.Bench.Distributed.RankServer.Command, ..]) return Loom.Bench.Distributed.RankServer.Run();
string suite = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "kernels";
string? json = null;
bool quick = false;
bool peers = false;
int? rounds = null;
string[]? cases = null;
bool profile = false;
int copies = 0;
int[] threads = [1, 2];
HashSet<string>? only = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--json": json = args[++i]; break;
        case "--quick": quick = true; break;
        case "--threads": threads = args[++i].Split(',').Select(int.Parse).ToArray(); break;
        case "--only": only = args[++i].Split(',').ToHashSet(); break;
        case "--peers": peers = true; break;
        case "--rounds": rounds = int.Parse(args[++i]); break;
        case "--case": cases = args[++i].Split(','); break;
        case "--profile": profile = true; break;
        case "--copies": copies = int.Parse(args[++i]); break;
    }
}
var options = new BenchOptions(quick, threads, only, peers) { Cases = cases, Profile = profile, Copies = copies };
if (rounds is int r) options = options with { Comparison = options.ComparisonSettings with { Rounds = r } };
BenchRunner.Run(suite, options, json, Console.Out);
return 0;
