using Loom.Bench;

namespace Loom.Cli.Commands;

/// <summary>`loom bench SUITE`: kernel or training-step benchmarks, optionally side by side with the peers, as JSON.</summary>
internal static class BenchCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var suite = new Argument<string>("suite") { Description = "kernels, train, distributed (MPI jobs: all-reduce, data-parallel throughput) or all", DefaultValueFactory = _ => "kernels" };
        suite.AcceptOnlyFromAmong("kernels", "train", "distributed", "all");
        var json = new Option<string?>("--json") { Description = "write the results to this JSON file" };
        var quick = new Option<bool>("--quick") { Description = "fewer sizes and repetitions" };
        var threads = new Option<string>("--threads") { Description = "comma-separated thread counts", DefaultValueFactory = _ => "1,2" };
        var only = new Option<string?>("--only") { Description = "comma-separated benchmark names (e.g. sgemm,conv2d)" };
        var peers = new Option<bool>("--peers") { Description = "also run the peers (PyTorch, numpy/OpenBLAS; bench/peers) in rounds alternating with Loom's and report the median ratio" };
        var rounds = new Option<int?>("--rounds") { Description = "rounds per case compared with a peer (default 7, 3 with --quick)" };
        var cases = new Option<string?>("--case") { Description = "comma-separated parts of case names to run (e.g. gpt2 runs only the GPT-2 124M step)" };
        var profile = new Option<bool>("--profile") { Description = "also profile each training step op by op and print the breakdown" };
        var copies = new Option<int>("--copies") { Description = "also run each training step as N independent 1-thread copies at once and report their summed rate against the N-thread FMA peak (the ceiling of an N-thread step on this machine's shared caches and memory)" };
        var force = new Option<bool>("--force") { Description = "overwrite --json's file if it exists" };
        var command = new Command("bench", "Measure kernels and training steps; figures are medians after warm-up") { suite, json, quick, threads, only, peers, rounds, cases, profile, copies, force };
        command.SetAction(parse =>
        {
            int[] threadCounts;
            try
            {
                threadCounts = parse.GetValue(threads)!.Split(',').Select(int.Parse).ToArray();
            }
            catch (FormatException)
            {
                throw new UserErrorException($"--threads expects numbers separated by commas, got '{parse.GetValue(threads)}'");
            }
            var options = BenchOptions.Default with
            {
                Quick = parse.GetValue(quick),
                ThreadCounts = threadCounts,
                Only = parse.GetValue(only)?.Split(',').ToHashSet(),
                Peers = parse.GetValue(peers),
                Cases = parse.GetValue(cases)?.Split(','),
                Profile = parse.GetValue(profile),
                Copies = parse.GetValue(copies),
            };
            if (parse.GetValue(rounds) is int r)
            {
                if (r < 1) throw new UserErrorException($"--rounds must be at least 1, got {r}");
                options = options with { Comparison = options.ComparisonSettings with { Rounds = r } };
            }
            if (options.Copies is 1 or < 0) throw new UserErrorException($"--copies must be at least 2, got {options.Copies}");
            // Checked before minutes of measuring, not after.
            var path = parse.GetValue(json) is { } j ? OutputFile.Check(j, "--json", parse.GetValue(force), []) : null;
            var report = BenchRunner.Run(parse.GetValue(suite)!, options, jsonPath: null, Console.Out);
            if (path is not null)
            {
                OutputFile.WriteText(path, report.ToJson());
                Console.Out.WriteLine($"wrote {parse.GetValue(json)}");
            }
            return 0;
        });
        return command;
    }
}
