namespace Loom.Models.Tests.Tasks;

/// <summary>
/// The CLI makes one option per distinct name across the tasks, so two tasks that declare the same name must mean the
/// same thing by it: otherwise one task's parser rejects the other's values (speech's `--augment 2` against vision's
/// `--augment crop,flip` did exactly that).
/// </summary>
public sealed class TaskOptionClashTests
{
    private static readonly string[] Probes = ["2", "0.5", "crop,flip", "28x28", "word", "-1"];

    [Fact]
    public void An_option_name_declared_by_several_tasks_has_one_key_and_one_parser()
    {
        foreach (var group in Models.Tasks.All.SelectMany(t => t.Options.Select(o => (Task: t.Name, Option: o))).GroupBy(p => p.Option.Name))
        {
            var first = group.First();
            foreach (var (task, option) in group.Skip(1))
            {
                Assert.True(option.Key == first.Option.Key, $"{option.Name}: key '{option.Key}' in {task} but '{first.Option.Key}' in {first.Task}");
                foreach (var probe in Probes)
                    Assert.True(Parsed(option, probe) == Parsed(first.Option, probe),
                        $"{option.Name} {probe}: {task} gives {Parsed(option, probe)}, {first.Task} gives {Parsed(first.Option, probe)}");
            }
        }
    }

    private static string Parsed(TaskOption option, string text)
    {
        try { return option.Parse(text)?.ToJsonString() ?? "null"; }
        catch (ArgumentException) { return "refused"; }
    }
}
