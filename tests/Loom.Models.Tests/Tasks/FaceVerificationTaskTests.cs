using System.Text.Json.Nodes;

namespace Loom.Models.Tests.Tasks;

/// <summary>The face-verification task: asked for, it trains on some classes and verifies on classes it never saw.</summary>
public sealed class FaceVerificationTaskTests
{
    private static TrainingConfig Quick() => new()
    {
        Task = FaceVerificationTask.TaskName, Data = "digits", Epochs = 1, Threads = 2,
        TaskOptions = new JsonObject { ["pairs"] = 2000, ["embedding"] = 32 },
    };

    [Fact]
    public void Images_go_to_classification_unless_face_verification_is_asked_for()
    {
        Assert.Equal("classification", Models.Tasks.Resolve(new TrainingConfig { Data = "digits" }).Task.Name);
        var (task, _, config) = Models.Tasks.Resolve(Quick());
        Assert.Equal((FaceVerificationTask.TaskName, FaceVerificationTask.ModelName), (task.Name, config.Model));
        var bad = Quick() with { TaskOptions = new JsonObject { ["held_out"] = 1 } };
        Assert.Contains("--held-out must be at least 2", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(bad)).Message);
    }

    [Fact]
    public void Training_is_on_seven_classes_and_the_test_split_holds_only_the_other_three()
    {
        var (task, _, config) = Models.Tasks.Resolve(Quick());
        var data = (FaceVerificationData)task.Load(config);
        Assert.Equal(["7", "8", "9"], data.HeldOutNames);
        Assert.All(data.Train.Targets.ToArray<long>(), t => Assert.InRange(t, 0, 6));
        Assert.Equal([0L, 1L, 2L], data.Test.Targets.ToArray<long>().Distinct().Order());
        Assert.Equal(7, data.Shape.TrainedClasses);
        var digits = Loom.Data.Digits.Load();
        Assert.Equal(digits.Test.Targets.ToArray<long>().Count(t => t >= 7), data.Test.Count);
    }

    [Fact]
    public void One_epoch_of_CosFace_separates_held_out_classes_better_than_the_untrained_network()
    {
        var setup = Pipeline.Prepare(Quick(), folder: null);
        var before = (FaceVerificationEvaluation)setup.Task.Evaluate(setup.Trainer.Evaluator, setup.Data, setup.TestLoader);
        setup.Trainer.Fit(setup.TrainLoader, setup.ValidationLoader);
        var after = (FaceVerificationEvaluation)setup.Task.Evaluate(setup.Trainer.Evaluator, setup.Data, setup.TestLoader);
        // One short epoch (a quick setting, not the quality run of docs/notes/vision.md): better than chance, and than before.
        Assert.True(after.Metrics["eer"] < before.Metrics["eer"] - 0.05, $"EER {after.Metrics["eer"]:F3} after training, {before.Metrics["eer"]:F3} before");
        Assert.True(after.Metrics["top1_identification"] > before.Metrics["top1_identification"],
            $"top-1 {after.Metrics["top1_identification"]:F3} after training, {before.Metrics["top1_identification"]:F3} before");
        Assert.InRange(after.Metrics["tar_at_far_1e-2"], 0, 1);
        Assert.True(double.IsNaN(after.Loss)); // no CosFace loss on classes the head does not know
    }
}
