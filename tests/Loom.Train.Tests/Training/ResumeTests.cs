using System.Text;
using Loom.Nn;
using Loom.Nn.Serialization;

namespace Loom.Train.Tests.Training;

/// <summary>
/// A run stopped and resumed from its checkpoint must end with the same weights as an uninterrupted one, with every
/// source of state in play: shuffling, dropout, momentum, an LR schedule, stateful callbacks.
/// </summary>
[Collection(GlobalStateCollection.Name)]
public sealed class ResumeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("loom-resume-").FullName;
    private readonly TensorDataset _data = TinyProblem.Blobs(90);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>One recipe, built from scratch each time as a resumed process would.</summary>
    private sealed record Run(Sequential Model, Trainer Trainer, DataLoader<Sample> Loader, ModelCheckpoint Checkpoint);

    private Run Build(string folder, int epochs, bool perBatchSchedule = false, int accumulation = 1, params ICallback[] extra)
    {
        var model = TinyProblem.Mlp(seed: 11, dropout: 0.3);
        var optimizer = new Sgd(model.Parameters(), 0.1, momentum: 0.9);
        var loader = new DataLoader<Sample>(_data, 16, shuffle: true, seed: 5); // 6 batches, the last one short
        LRScheduler scheduler = perBatchSchedule ? new CosineAnnealingLR(optimizer, 3 * loader.Count) : new StepLR(optimizer, 1, 0.5);
        var checkpoint = new ModelCheckpoint(Path.Combine(_dir, folder), "val_loss");
        var options = new TrainerOptions { Epochs = epochs, Seed = 123, SchedulerStepPerBatch = perBatchSchedule, GradientAccumulationSteps = accumulation };
        var trainer = new Trainer(model, optimizer, TinyProblem.CrossEntropy, options, TinyProblem.Metrics,
            [new EarlyStopping("val_loss", patience: 50), .. extra, checkpoint], scheduler);
        return new Run(model, trainer, loader, checkpoint);
    }

    private DataLoader<Sample> Validation => new(TinyProblem.Blobs(30, seed: 9), 16);

    private Run Uninterrupted(bool perBatchSchedule = false, int accumulation = 1)
    {
        var run = Build("straight", 3, perBatchSchedule, accumulation);
        run.Trainer.Fit(run.Loader, Validation);
        return run;
    }

    /// <summary>
    /// Resumes from the folder's checkpoint and checks that the run really continued from it: it starts at the
    /// checkpoint's epoch, batch and step and trains only the batches that were left. Fit reseeds a fresh run, so a
    /// resume that ignored the checkpoint would retrain from scratch to the same weights: these counts catch that.
    /// </summary>
    private Run Resumed(string folder, bool perBatchSchedule = false, int accumulation = 1)
    {
        var path = Path.Combine(_dir, folder, "last.ckpt");
        var saved = System.Text.Json.Nodes.JsonNode.Parse(SafeTensors.Load(path).Metadata["loom.trainer"])!;
        int epoch = (int)saved["epoch"]!, batch = (int)saved["batch_in_epoch"]!;
        long step = (long)saved["global_step"]!;
        Assert.True(epoch > 0 || batch > 0, "the checkpoint is at the very start, so resuming from it proves nothing");

        var run = Build(folder, 3, perBatchSchedule, accumulation);
        run.Trainer.LoadCheckpoint(path);
        var fit = run.Trainer.Fit(run.Loader, Validation);

        Assert.Equal((epoch, batch, step), (fit.StartEpoch, fit.StartBatch, fit.StartStep));
        Assert.Equal(3 * run.Loader.Count - (epoch * run.Loader.Count + batch), fit.Batches);
        return run;
    }

    private static void AssertSameRun(Run expected, Run actual)
    {
        TinyProblem.AssertSameWeights(expected.Model, actual.Model);
        Assert.Equal(expected.Trainer.GlobalStep, actual.Trainer.GlobalStep);
        Assert.Equal(expected.Trainer.Optimizer.LearningRate, actual.Trainer.Optimizer.LearningRate);
        Assert.Equal(expected.Trainer.History.Count, actual.Trainer.History.Count);
        for (int e = 0; e < expected.Trainer.History.Count; e++)
            foreach (var key in new[] { "loss", "val_loss", "lr" })
                Assert.Equal(expected.Trainer.History[e].Get(key), actual.Trainer.History[e].Get(key));
        Assert.Equal(expected.Checkpoint.Best, actual.Checkpoint.Best);
    }

    [Fact]
    public void Resuming_after_an_epoch_ends_with_the_same_weights_as_an_uninterrupted_run()
    {
        var straight = Uninterrupted();
        var first = Build("split", 1);
        first.Trainer.Fit(first.Loader, Validation);
        Assert.True(File.Exists(first.Checkpoint.LastPath));
        Assert.True(File.Exists(first.Checkpoint.BestPath));

        var resumed = Resumed("split");

        Assert.Equal(1, resumed.Trainer.History[0].Epoch + 1);
        AssertSameRun(straight, resumed);
    }

    [Fact]
    public void The_first_half_is_not_already_the_answer()
    {
        // Guards the resume tests against passing vacuously: one epoch must leave different weights from three.
        var straight = Uninterrupted();
        var first = Build("split", 1);
        first.Trainer.Fit(first.Loader, Validation);
        Assert.NotEqual(TinyProblem.Weights(straight.Model)["3.weight"], TinyProblem.Weights(first.Model)["3.weight"]);
    }

    [Fact]
    public void Resuming_from_the_middle_of_an_epoch_continues_on_the_same_batches()
    {
        var straight = Uninterrupted(perBatchSchedule: true);
        var first = Build("mid", 3, perBatchSchedule: true, extra: new StopAfter(epoch: 1, batches: 4));
        var fit = first.Trainer.Fit(first.Loader, Validation);
        Assert.Equal("interrupted", fit.StopReason);
        Assert.Equal(4, first.Trainer.BatchInEpoch);

        var resumed = Resumed("mid", perBatchSchedule: true);

        AssertSameRun(straight, resumed);
    }

    [Fact]
    public void Resuming_between_accumulated_batches_keeps_the_gradients_gathered_so_far()
    {
        var straight = Uninterrupted(accumulation: 2);
        // Stopping after the 3rd batch leaves one batch's gradients waiting for the 4th.
        var first = Build("accumulating", 3, accumulation: 2, extra: new StopAfter(epoch: 1, batches: 3));
        first.Trainer.Fit(first.Loader, Validation);

        var resumed = Resumed("accumulating", accumulation: 2);

        AssertSameRun(straight, resumed);
    }

    [Fact]
    public void Resuming_twice_is_the_same_as_resuming_once()
    {
        var straight = Uninterrupted();
        var first = Build("twice", 3, extra: new StopAfter(epoch: 0, batches: 2));
        first.Trainer.Fit(first.Loader, Validation);
        var second = Build("twice", 3, extra: new StopAfter(epoch: 1, batches: 5));
        second.Trainer.LoadCheckpoint(second.Checkpoint.LastPath);
        second.Trainer.Fit(second.Loader, Validation);
        Assert.Equal(1, second.Trainer.Epoch);

        var resumed = Resumed("twice");

        AssertSameRun(straight, resumed);
    }

    [Fact]
    public void A_checkpoint_holds_model_optimizer_and_trainer_state()
    {
        var run = Build("contents", 1);
        run.Trainer.Fit(run.Loader, Validation);

        var file = SafeTensors.Load(run.Checkpoint.LastPath);
        Assert.Contains("model.0.weight", file.Tensors.Keys);
        Assert.Contains("optimizer.state.0.momentum_buffer", file.Tensors.Keys);
        Assert.Contains("\"global_step\":6", file.Metadata["loom.trainer"]);
        var best = SafeTensors.Load(run.Checkpoint.BestPath);
        Assert.Equal(run.Model.StateDict().Keys.Order(), best.Tensors.Keys.Order());
    }

    [Fact]
    public void A_truncated_checkpoint_is_a_format_error_naming_the_file()
    {
        var run = Build("truncated", 1);
        run.Trainer.Fit(run.Loader, Validation);
        var bytes = File.ReadAllBytes(run.Checkpoint.LastPath);
        foreach (int length in new[] { 0, 5, 100, bytes.Length / 2, bytes.Length - 1 })
        {
            var path = Path.Combine(_dir, $"cut-{length}.ckpt");
            File.WriteAllBytes(path, bytes[..length]);
            var fresh = Build("truncated-load", 3);
            var ex = TensorAssert.Throws<SafeTensorsFormatException>(() => fresh.Trainer.LoadCheckpoint(path), $"cut-{length}.ckpt");
            Assert.DoesNotContain("   at ", ex.Message);
        }
    }

    [Fact]
    public void A_checkpoint_with_garbage_bytes_is_a_format_error()
    {
        var path = Path.Combine(_dir, "garbage.ckpt");
        var garbage = new byte[4096];
        new System.Random(3).NextBytes(garbage);
        File.WriteAllBytes(path, garbage);
        TensorAssert.Throws<SafeTensorsFormatException>(() => Build("garbage", 3).Trainer.LoadCheckpoint(path), "garbage.ckpt");

        // A plausible header length followed by text that is not JSON.
        var header = Encoding.UTF8.GetBytes("{\"model.0.weight\": [not json");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header]);
        TensorAssert.Throws<SafeTensorsFormatException>(() => Build("garbage", 3).Trainer.LoadCheckpoint(path), "garbage.ckpt");
    }

    [Fact]
    public void Model_weights_alone_are_not_a_training_checkpoint()
    {
        var run = Build("weights", 1);
        var path = Path.Combine(_dir, "weights.safetensors");
        SafeTensors.Save(path, run.Model.StateDict());
        TensorAssert.Throws<InvalidDataException>(() => run.Trainer.LoadCheckpoint(path), "weights.safetensors", "not a Loom training checkpoint");
    }

    [Theory]
    [InlineData("{\"epoch\": ", "not valid JSON")]
    [InlineData("{\"epoch\": 1}", "incomplete or malformed")]
    [InlineData("{\"epoch\": \"one\"}", "incomplete or malformed")]
    [InlineData("[]", "incomplete or malformed")]
    public void A_checkpoint_with_broken_trainer_state_is_invalid_data(string state, string problem)
    {
        var run = Build("state", 1);
        var path = Path.Combine(_dir, "state.ckpt");
        var tensors = run.Model.StateDict().ToDictionary(kv => "model." + kv.Key, kv => kv.Value);
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["loom.trainer"] = state });
        TensorAssert.Throws<InvalidDataException>(() => run.Trainer.LoadCheckpoint(path), "state.ckpt", problem);
    }

    [Theory]
    [InlineData("loader", "seed", "\"-1\"")]
    [InlineData("loader", "seed", "\"many\"")]
    [InlineData("rng", "s0", "\"99999999999999999999999\"")]
    [InlineData("rng", "has_spare", "\"yes\"")]
    [InlineData(null, "epoch", "1e30")]
    [InlineData(null, "history", "{}")]
    public void A_checkpoint_with_a_bad_value_in_a_complete_state_is_invalid_data(string? section, string key, string value)
    {
        var run = Build("values", 1);
        run.Trainer.Fit(run.Loader, Validation);
        var file = SafeTensors.Load(run.Checkpoint.LastPath);
        var state = System.Text.Json.Nodes.JsonNode.Parse(file.Metadata["loom.trainer"])!;
        (section is null ? state : state[section]!)[key] = System.Text.Json.Nodes.JsonNode.Parse(value);
        var path = Path.Combine(_dir, "values.ckpt");
        SafeTensors.Save(path, file.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value), new Dictionary<string, string> { ["loom.trainer"] = state.ToJsonString() });

        TensorAssert.Throws<InvalidDataException>(() => Build("values", 3).Trainer.LoadCheckpoint(path), "values.ckpt", "malformed");
    }

    [Fact]
    public void A_checkpoint_of_another_model_is_refused()
    {
        var run = Build("other", 1);
        run.Trainer.Fit(run.Loader, Validation);
        var other = TinyProblem.Mlp(hidden: 5);
        var trainer = new Trainer(other, new Sgd(other.Parameters(), 0.1), TinyProblem.CrossEntropy);
        Assert.Throws<StateDictMismatchException>(() => trainer.LoadCheckpoint(run.Checkpoint.LastPath));
    }
}
