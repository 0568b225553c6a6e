using Loom.Train;

namespace Loom.Cli.Tests;

/// <summary>Resuming a classification run through the pipeline, with the callbacks it adds (plateau schedule, early stopping).</summary>
public sealed class PipelineResumeTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Random labels: the model can only memorise, so validation loss soon rises and the plateau schedule acts.</summary>
    private string NoiseCsv()
    {
        var rng = new System.Random(5);
        var sb = new StringBuilder("a,b,c,d,e,f,label\n");
        for (int i = 0; i < 200; i++)
            sb.Append(string.Join(',', Enumerable.Range(0, 6).Select(_ => rng.NextDouble().ToString("F4", CultureInfo.InvariantCulture)))).Append(',').Append(rng.Next(3)).Append('\n');
        var path = _temp.File("noise.csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private sealed class StopAtEpochEnd(int epochs) : ICallback
    {
        public void OnEpochEnd(Trainer trainer, EpochSummary summary)
        {
            if (summary.Epoch + 1 == epochs) trainer.RequestStop("paused");
        }
    }

    private sealed class InterruptAtEpochEnd(int epochs) : ICallback
    {
        public void OnEpochEnd(Trainer trainer, EpochSummary summary)
        {
            if (summary.Epoch + 1 == epochs) trainer.Interrupt("interrupted");
        }
    }

    [Fact]
    public void An_interrupt_that_falls_on_an_epochs_end_leaves_the_run_unfinished()
    {
        // Ctrl-C or SIGTERM during an epoch's last batch or its validation stops with no batch of the next epoch
        // trained: the run must wait for --resume, not be evaluated and reported as if all its epochs had run.
        var config = new TrainingConfig { Data = NoiseCsv(), Model = "mlp", Epochs = 4, BatchSize = 16, Threads = 1 }
            .WithTaskOptions(new ClassificationOptions { Target = "label", Hidden = 16 });
        var folder = new RunFolder(_temp.File("interrupted"));
        var setup = Pipeline.Prepare(config, folder, [new InterruptAtEpochEnd(2)]);
        var result = Pipeline.Train(setup, folder);
        Assert.True(result.Fit.Interrupted);
        Assert.Equal((2, 0), (setup.Trainer.Epoch, setup.Trainer.BatchInEpoch));
        Assert.Null(result.Test);
        Assert.DoesNotContain(folder.ReadMetrics(), l => (string?)l["kind"] == "test");

        var resumed = Pipeline.Prepare(config, folder);
        var finished = Pipeline.Train(resumed, folder, resume: true);
        Assert.Equal(2, finished.Fit.StartEpoch);
        Assert.NotNull(finished.Test);
    }

    [Fact]
    public void A_resumed_run_with_a_plateau_schedule_reduces_the_rate_at_the_same_epochs()
    {
        var config = new TrainingConfig
        {
            Data = NoiseCsv(), Model = "mlp", Epochs = 8, BatchSize = 16, LearningRate = 0.01,
            Schedule = "plateau", Patience = 6, ValidationFraction = 0.25, Threads = 1,
        }.WithTaskOptions(new ClassificationOptions { Target = "label", Hidden = 64 });
        var straightFolder = new RunFolder(_temp.File("straight"));
        var straight = Pipeline.Prepare(config, straightFolder);
        Pipeline.Train(straight, straightFolder);
        var rates = straight.Trainer.History.Select(h => h.Get("lr")).ToArray();
        Assert.True(rates[4..].Min() < rates[3], $"the schedule never reduced the rate after epoch 4 ({string.Join(", ", rates)}), so this test shows nothing");

        var pausedFolder = new RunFolder(_temp.File("paused"));
        var paused = Pipeline.Prepare(config, pausedFolder, [new StopAtEpochEnd(4)]);
        Pipeline.Train(paused, pausedFolder);
        Assert.Equal(4, paused.Trainer.Epoch);
        var resumed = Pipeline.Prepare(config, pausedFolder);
        var result = Pipeline.Train(resumed, pausedFolder, resume: true);

        // It continued from the checkpoint (epoch 4, the paused run's step) and trained only the epochs left; a resume
        // that ignored the checkpoint would start at 0 and retrain them all to the same weights.
        Assert.Equal((4, 0, paused.Trainer.GlobalStep), (result.Fit.StartEpoch, result.Fit.StartBatch, result.Fit.StartStep));
        Assert.Equal((straight.Trainer.History.Count - 4) * resumed.TrainLoader.Count, result.Fit.Batches);
        Assert.Equal(straight.Trainer.GlobalStep - paused.Trainer.GlobalStep, result.Fit.Steps);

        Assert.Equal(rates, resumed.Trainer.History.Select(h => h.Get("lr")));
        var expected = SafeTensors.Load(straightFolder.ModelPath).Tensors;
        var actual = SafeTensors.Load(pausedFolder.ModelPath).Tensors;
        foreach (var (name, tensor) in expected)
            Loom.Testing.TensorAssert.Close(tensor.ToArray<float>(), actual[name].ToArray<float>(), atol: 0, rtol: 0, what: name + " ");
    }
}
