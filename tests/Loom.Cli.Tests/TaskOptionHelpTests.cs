using System.CommandLine;
using Loom.Cli.Commands;

namespace Loom.Cli.Tests;

/// <summary>
/// `loom train --help` and `loom cv --help` show one option per name, while several tasks may declare the name with
/// defaults of their own (--min-count: 3 for summarization, 1 for text classification). The help must state each
/// task's default, not the first declaring task's as if it held for all.
/// </summary>
public sealed class TaskOptionHelpTests
{
    private static readonly Dictionary<string, string> Help = new TrainingOptions().All.ToDictionary(o => o.Name, o => o.Description ?? "");

    [Theory]
    [InlineData("--beam", "4 for translation", "1 for summarization")]
    [InlineData("--min-count", "3 for summarization", "1 for text-classification")]
    [InlineData("--vocab-size", "8000 for translation", "16000 for summarization", "4096 for language-model")]
    [InlineData("--max-length", "96 for translation", "400 for text-classification")]
    public void A_shared_option_states_each_tasks_default(string name, params string[] defaults)
    {
        foreach (var d in defaults) Assert.True(Help[name].Contains(d, StringComparison.Ordinal), $"{name}: '{Help[name]}' lacks '{d}'");
    }

    [Fact]
    public void Every_option_several_tasks_declare_states_each_default_and_each_description()
    {
        foreach (var group in Tasks.All.SelectMany(t => t.Options.Select(o => (Task: t.Name, Option: o))).GroupBy(p => p.Option.Name))
        {
            var help = Help[group.Key];
            foreach (var (task, option) in group)
            {
                Assert.True(help.Contains(option.Description, StringComparison.Ordinal), $"{group.Key}: '{help}' lacks {task}'s '{option.Description}'");
                bool oneDefault = group.Select(p => p.Option.DefaultText).Distinct().Count() == 1;
                if (option.DefaultText is { } value)
                    Assert.True(help.Contains(oneDefault ? $"[default: {value}]" : $"{value} for {task}", StringComparison.Ordinal),
                        $"{group.Key}: '{help}' lacks {task}'s default {value}");
            }
        }
    }

    [Fact]
    public void One_default_shared_by_every_declaring_task_is_stated_once()
    {
        Assert.EndsWith("[default: 0.6]", Help["--length-penalty"]);
        Assert.DoesNotContain(" for ", Help["--length-penalty"]);
    }

    [Fact]
    public void A_command_option_named_like_a_task_option_is_refused_when_the_command_is_built()
    {
        // distill's --temperature once met a face-verification option of that name: the parser gave the value to one.
        var error = Assert.Throws<InvalidOperationException>(() => new TrainingOptions().Command("distill", "d", new Option<double>("--beam")));
        Assert.Contains("--beam", error.Message);
        Assert.NotNull(new TrainingOptions().Command("distill", "d", new Option<double>("--temperature")));
    }

    [Theory]
    [InlineData("digits", "--quick", "--quick is read only by --task ", "; digits (", ") makes a classification run: leave it out, or give --task")]
    [InlineData("digit-scenes", "--dim", "--dim is read only by --task translation", ") makes a detection run")]
    public void A_task_option_the_data_s_task_does_not_read_is_refused_not_dropped(string data, string option, params string[] fragments)
    {
        string[] value = option == "--quick" ? [] : ["5"];
        CliRunner.Fail(["train", "--data", data, option, .. value, "--max-steps", "1"], fragments);
        CliRunner.Fail(["cv", "--data", data, option, .. value, "--folds", "2"], fragments);
    }
}
