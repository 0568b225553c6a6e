namespace Loom.Models.Tests.Tasks;

public sealed class TrainingConfigTests
{
    // A config.json as `loom train` wrote it before tasks existed: no "task", and the classification options among the shared ones.
    private const string BeforeTasks = """
        {
          "data": "blobs.csv",
          "target": "label",
          "model": "mlp",
          "epochs": 3,
          "batch_size": 16,
          "optimizer": "adam",
          "learning_rate": 0.002,
          "momentum": 0.9,
          "weight_decay": 0,
          "schedule": "cosine",
          "l1": 0,
          "l2": 0,
          "dropout": 0.1,
          "hidden": 16,
          "seed": 42,
          "threads": 1,
          "validation_fraction": 0.1,
          "patience": 0,
          "image_size": [
            20,
            24
          ],
          "image_channels": 3
        }
        """;

    [Fact]
    public void A_config_written_before_tasks_loads_as_classification_with_its_options()
    {
        var config = TrainingConfig.FromJson(BeforeTasks, "config.json");

        Assert.Equal("classification", config.Task);
        Assert.Equal(("blobs.csv", "mlp", 3, 16, 0.002, 1), (config.Data, config.Model, config.Epochs, config.BatchSize, config.LearningRate, config.Threads));
        var options = config.GetTaskOptions<ClassificationOptions>();
        Assert.Equal(("label", 16, 3), (options.Target, options.Hidden, options.ImageChannels));
        Assert.Equal([20, 24], options.ImageSize);
    }

    [Fact]
    public void Task_options_sit_beside_the_shared_options_and_round_trip()
    {
        var config = new TrainingConfig { Task = "classification", Data = "t.csv", Model = "mlp", Seed = 7 }
            .WithTaskOptions(new ClassificationOptions { Target = "y", Hidden = 12 });

        var json = System.Text.Json.Nodes.JsonNode.Parse(config.ToJson())!.AsObject();
        Assert.Equal("y", (string?)json["target"]);
        Assert.Equal(12, (int?)json["hidden"]);
        Assert.Equal(7UL, (ulong?)json["seed"]);
        var back = TrainingConfig.FromJson(config.ToJson(), "config.json");
        Assert.Equal(config.ToJson(), back.ToJson());
        Assert.Equal(12, back.GetTaskOptions<ClassificationOptions>().Hidden);
    }

    [Theory]
    [InlineData("{", "runs/x/config.json: not valid JSON (line 1, column 2)")]
    [InlineData(" \n", "runs/x/config.json is empty: a training configuration is a JSON object such as loom train writes")]
    [InlineData("[1]", "runs/x/config.json: a training configuration is a JSON object {…}, but the file holds a list")]
    [InlineData("{\"data\": \"digits\"}", "runs/x/config.json: lacks \"model\", which every config.json loom train writes has")]
    [InlineData("{\"data\": \"digits\", \"model\": \"mlp\", \"epochs\": \"many\"}", "runs/x/config.json: \"epochs\" must be a whole number, got \"many\"")]
    [InlineData("{\"data\": \"digits\", \"model\": \"mlp\", \"seed\": -1}", "runs/x/config.json: \"seed\" must be a whole number ≥ 0, got -1")]
    [InlineData("{\"data\": \"digits\", \"model\": \"mlp\", \"learning_rate\": [1]}", "runs/x/config.json: \"learning_rate\" must be a number, got [1]")]
    public void A_config_that_is_not_a_training_configuration_is_one_line_naming_its_file(string json, string message) =>
        Assert.Equal(message, Assert.Throws<InvalidDataException>(() => TrainingConfig.FromJson(json, "runs/x/config.json")).Message);

    [Fact]
    public void A_task_option_of_the_wrong_type_names_the_key_and_the_type()
    {
        var config = TrainingConfig.FromJson("{\"data\": \"digits\", \"model\": \"mlp\", \"image_size\": \"big\"}", "config.json");
        var e = Assert.Throws<InvalidDataException>(() => config.GetTaskOptions<ClassificationOptions>());
        Assert.Equal("\"image_size\" must be a list of whole numbers, got \"big\"", e.Message);
    }
}
