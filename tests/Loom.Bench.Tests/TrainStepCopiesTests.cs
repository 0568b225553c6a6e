namespace Loom.Bench.Tests;

public class TrainStepCopiesTests
{
    [Fact]
    public void Copies_run_as_one_row_whose_rate_is_the_sum_of_each_copys_rate()
    {
        var report = new BenchReport(TextWriter.Null);
        var options = new BenchOptions(Quick: true, ThreadCounts: [1]) { Cases = ["mlp"], Copies = 2 };

        new TrainStepBench().Run(report, options);

        var rows = report.Results.Select(r => r!).ToList();
        Assert.Equal(2, rows.Count); // the 1-thread step, then its two copies
        var copies = rows[1];
        Assert.EndsWith("@1t x2 copies", copies["case"]!.GetValue<string>());
        Assert.Equal(2, copies["copies"]!.GetValue<int>());
        double slowest = copies["slowest_copy_ms"]!.GetValue<double>() / 1e3, fastest = copies["fastest_copy_ms"]!.GetValue<double>() / 1e3;
        Assert.True(fastest > 0 && fastest <= slowest);
        Assert.Equal(1 / slowest + 1 / fastest, copies["steps_per_s"]!.GetValue<double>(), 6);
    }
}
