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

    [Fact]
    public void A_config_that_is_not_valid_json_names_its_file()
    {
        var e = Assert.Throws<InvalidDataException>(() => TrainingConfig.FromJson("{\"epochs\": \"many\"}", "runs/x/config.json"));
        Assert.StartsWith("runs/x/config.json: not a valid training configuration", e.Message);
    }
}
