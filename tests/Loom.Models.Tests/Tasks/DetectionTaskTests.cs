namespace Loom.Models.Tests.Tasks;

/// <summary>The detection task: data names pick it, scenes are composed from the right split, and a short run learns.</summary>
public sealed class DetectionTaskTests
{
    private static TrainingConfig Quick(ulong seed = 42) => new()
    {
        Data = "digit-scenes", Epochs = 3, Threads = 2, Seed = seed,
        TaskOptions = new JsonObject { ["scenes"] = 1500, ["test_scenes"] = 100, ["canvas"] = 48 },
    };

    [Fact]
    public void Scene_data_names_pick_detection_and_its_detector()
    {
        var (task, kind, config) = Models.Tasks.Resolve(new TrainingConfig { Data = "digit-scenes" });
        Assert.Equal((DetectionTask.TaskName, "scenes", "centernet"), (task.Name, kind.Name, config.Model));
        Assert.Equal(DetectionTask.TaskName, Models.Tasks.Resolve(new TrainingConfig { Data = "Fashion-Scenes" }).Task.Name);
        Assert.Contains("--model cnn does not fit composed detection scenes", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(new TrainingConfig { Data = "digit-scenes", Model = "cnn" })).Message);
        var odd = new TrainingConfig { Data = "digit-scenes", TaskOptions = new JsonObject { ["canvas"] = 50 } };
        Assert.Contains("--canvas must be a multiple of 4", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(odd)).Message);
    }

    [Fact]
    public void Test_scenes_are_composed_from_test_images_only_and_are_the_same_for_every_run()
    {
        var (task, _, config) = Models.Tasks.Resolve(Quick());
        var data = (DetectionData)task.Load(config);
        var digits = Digits.Load();
        Assert.Equal(digits.Train.Count, data.Train.Composer.Sources);
        Assert.Equal(digits.Test.Count, data.Test.Composer.Sources);
        Assert.Equal((48, 10), (data.Test.Size, data.Test.ClassCount));

        var other = (DetectionData)task.Load(Models.Tasks.Resolve(Quick(seed: 7)).Config);
        Assert.Equal(data.Test.Objects(5), other.Test.Objects(5));
        Assert.NotEqual(data.Train.Objects(5), other.Train.Objects(5));

        // A sample's target encodes exactly the scene's objects.
        var sample = data.Test[5];
        Assert.Equal(new Shape(1, 48, 48), sample.Input.Shape);
        Assert.Equal(new Shape(15, 12, 12), sample.Target.Shape);
        var t = sample.Target.ToArray<float>();
        var centreCells = data.Test.Objects(5).Select(o => ((int)((o.Box.X1 + o.Box.X2) / 8), (int)((o.Box.Y1 + o.Box.Y2) / 8))).Distinct().Count();
        Assert.True(centreCells >= 1);
        Assert.Equal(centreCells, (int)t.AsSpan(14 * 144, 144).ToArray().Sum());
    }

    [Fact]
    public void A_short_run_finds_objects_an_untrained_detector_does_not()
    {
        var setup = Pipeline.Prepare(Quick(), folder: null);
        var data = (DetectionData)setup.Data;
        var before = (DetectionEvaluation)setup.Task.Evaluate(setup.Trainer.Evaluator, data, setup.TestLoader);
        setup.Trainer.Fit(setup.TrainLoader, setup.ValidationLoader);
        var after = (DetectionEvaluation)setup.Task.Evaluate(setup.Trainer.Evaluator, data, setup.TestLoader);
        Assert.True(after.Map50 > Math.Max(0.05, 5 * before.Map50), $"mAP@0.5 {after.Map50:F3} after training, {before.Map50:F3} before");
        Assert.True(after.Coco < after.Map50 && after.Coco > before.Coco);
        Assert.Equal(after.Map50, after.Metrics["map50"]);
        var table = after.Tables[0];
        Assert.Equal(["class", "AP@0.5", "AP@[.5:.95]"], table.Columns);
        Assert.Equal(10, table.Rows.Count);
        // Then where AP is lost: by kind of object (its first row is the overall figure), outcomes, score bands.
        Assert.Equal(4, after.Tables.Count);
        Assert.Equal(after.Map50, double.Parse(after.Tables[1].Rows[0][2].ToString(), System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Equal(10, after.Tables[3].Rows.Count);
    }
}
