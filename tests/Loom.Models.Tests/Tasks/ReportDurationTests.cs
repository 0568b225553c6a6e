namespace Loom.Models.Tests.Tasks;

/// <summary>report.md's training time: hours are kept (the "mm:ss" format alone showed a 65-minute run as 05:00).</summary>
public sealed class ReportDurationTests
{
    [Theory]
    [InlineData(0, 0, 0.0, "0:00:00.0")]
    [InlineData(0, 2, 3.45, "0:02:03.4")]
    [InlineData(1, 5, 0.0, "1:05:00.0")]
    [InlineData(26, 0, 7.0, "26:00:07.0")]
    public void Training_time_keeps_its_hours(int hours, int minutes, double seconds, string expected) =>
        Assert.Equal(expected, Report.Duration(new TimeSpan(hours, minutes, 0) + TimeSpan.FromSeconds(seconds)));
}
