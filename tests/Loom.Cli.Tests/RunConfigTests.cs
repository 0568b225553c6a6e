namespace Loom.Cli.Tests;

/// <summary>A small trained run on the digits (an MLP, two steps), shared by tests that copy it and break the copy.</summary>
public sealed class SmallRunFixture : IDisposable
{
    private readonly TempFolder _temp = new();

    public SmallRunFixture()
    {
        CliRunner.Succeed("train", "--model", "mlp", "--hidden", "8", "--max-steps", "2", "--threads", "1", "--output", _temp.Path);
        Folder = CliRunner.RunFolderUnder(_temp.Path);
    }

    public string Folder { get; }

    public void Dispose() => _temp.Dispose();
}

/// <summary>
/// A run folder's config.json that is broken (not JSON, empty, the wrong shape or types, an unknown task, missing keys,
/// values that do not fit the weights) is one error line naming the file for every verb that reads it — eval, predict
/// and train --resume — and nothing in the folder changes.
/// </summary>
public sealed class RunConfigTests(SmallRunFixture run) : IClassFixture<SmallRunFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>The run's config.json with <paramref name="key"/> set to <paramref name="json"/> (removed when null).</summary>
    private static Func<string, string> Edit(string key, string? json) => original =>
    {
        var config = JsonNode.Parse(original)!.AsObject();
        if (json is null) config.Remove(key);
        else config[key] = JsonNode.Parse(json);
        return config.ToJsonString();
    };

    private static Func<string, string> Replace(string text) => _ => text;

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var verb in new[] { "eval", "predict", "resume" })
        {
            data.Add(verb, "truncated", "config.json: not valid JSON (line 1, column 2)");
            data.Add(verb, "empty", "config.json is empty");
            data.Add(verb, "list", "config.json: a training configuration is a JSON object {…}, but the file holds a list");
            data.Add(verb, "epochs-many", "config.json: \"epochs\" must be a whole number, got \"many\"");
            data.Add(verb, "only-epochs-many", "config.json: lacks \"data\" and \"model\"");
            data.Add(verb, "model-5", "config.json: \"model\" must be a string, got 5");
            data.Add(verb, "task-poetry", "config.json: \"task\" is 'poetry', which this Loom does not know (tasks: detection, face-verification, keyword-spotting, translation, summarization, language-model, text-classification, classification)");
            data.Add(verb, "no-model", "config.json: lacks \"model\"");
            data.Add(verb, "hidden-wide", "config.json: \"hidden\" must be a whole number, got \"wide\"");
            data.Add(verb, "epochs-0", "config.json: --epochs must be at least 1, got 0");
            data.Add(verb, "hidden-9", verb == "resume" ? "last.ckpt does not fit the mlp that" : "model.safetensors does not fit the mlp that");
        }
        return data;
    }

    private static readonly Dictionary<string, Func<string, string>> Breakages = new()
    {
        ["truncated"] = Replace("{"),
        ["empty"] = Replace(""),
        ["list"] = Replace("[]"),
        ["epochs-many"] = Edit("epochs", "\"many\""),
        ["only-epochs-many"] = Replace("{\"epochs\": \"many\"}"),
        ["model-5"] = Edit("model", "5"),
        ["task-poetry"] = Edit("task", "\"poetry\""),
        ["no-model"] = Edit("model", null),
        ["hidden-wide"] = Edit("hidden", "\"wide\""),
        ["epochs-0"] = Edit("epochs", "0"),
        // Valid, but not what the weights were trained with: the state-dict mismatch is one line too.
        ["hidden-9"] = Edit("hidden", "9"),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_broken_config_json_is_one_error_line_naming_it_and_changes_nothing(string verb, string breakage, string message)
    {
        var folder = TestData.CopyFolder(run.Folder, _temp.File("run"));
        var config = Path.Combine(folder, "config.json");
        File.WriteAllText(config, Breakages[breakage](File.ReadAllText(config)));
        var before = TestData.Snapshot(folder);
        var predictions = _temp.File("predictions.csv");

        string[] args = verb switch
        {
            "eval" => ["eval", folder],
            "predict" => ["predict", folder, "--output", predictions],
            _ => ["train", "--resume", folder],
        };
        var error = CliRunner.Fail(args, message);

        Assert.StartsWith(breakage == "hidden-9" ? folder : config, error);
        Assert.Equal(before, TestData.Snapshot(folder));
        Assert.False(File.Exists(predictions));
    }

    [Fact]
    public void Eval_best_without_best_weights_is_an_error_not_the_final_weights()
    {
        var folder = TestData.CopyFolder(run.Folder, _temp.File("run"));
        File.Delete(Path.Combine(folder, "best.safetensors"));
        CliRunner.Fail(["eval", folder, "--best"], $"{folder} has no best.safetensors", "leave out --best to use the final model");
    }
}
