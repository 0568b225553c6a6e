using Loom.Bench;

// Usage: Loom.Bench SUITE [--json FILE] [--quick] [--threads 1,2] [--only a,b] [--peers]
// SUITE is kernels, train or all. `loom bench` in Loom.Cli calls the same BenchRunner.
string suite = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "kernels";
string? json = null;
bool quick = false;
bool peers = false;
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
    }
}
BenchRunner.Run(suite, new BenchOptions(quick, threads, only, peers), json, Console.Out);
