namespace Loom.Models.Tests.Tasks;

/// <summary>
/// The default a task's option states in the help is the one the task applies: an option left out of the command
/// line is filled in by the task's options record, and each declaration takes its default from that record.
/// </summary>
public sealed class TaskOptionDefaultTests
{
    [Fact]
    public void Each_tasks_stated_default_is_the_value_its_options_get()
    {
        foreach (var task in Models.Tasks.All)
        {
            var applied = task.NormalizeOptions(new TrainingConfig { Data = "unused", Task = task.Name }).TaskOptions!;
            // Left out: defaults described in words ("the column with the most words"), and values the record leaves
            // null to mean the stated default (--width 1, --label-smoothing 0, so that config.json omits them).
            foreach (var option in task.Options.Where(o => o.DefaultText is { } text && !text.Contains(' ') && applied[o.Key] is not null))
            {
                var stated = option.Parse(option.DefaultText!);
                Assert.True(JsonNode.DeepEquals(stated, applied[option.Key]),
                    $"{task.Name} {option.Name}: the help states {option.DefaultText}, the task applies {applied[option.Key]?.ToJsonString() ?? "null"}");
            }
        }
    }
}
