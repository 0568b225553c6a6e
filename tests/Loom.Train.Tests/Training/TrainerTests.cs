using Loom.Nn;

namespace Loom.Train.Tests.Training;

[Collection(GlobalStateCollection.Name)]
public class TrainerTests
{
    private static Trainer NewTrainer(Module<Tensor, Tensor> model, Optimizer optimizer, TrainerOptions options, params ICallback[] callbacks) =>
        new(model, optimizer, TinyProblem.CrossEntropy, options, TinyProblem.Metrics, callbacks);

    [Fact]
    public void Loss_decreases_and_accuracy_rises_on_separable_blobs()
    {
        var model = TinyProblem.Mlp();
        var trainer = NewTrainer(model, new Adam(model.Parameters(), 0.01), new TrainerOptions { Epochs = 8 });
        var fit = trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(96), 16, shuffle: true, seed: 3));

        Assert.Equal(8, fit.Epochs.Count);
        Assert.Equal("completed", fit.StopReason);
        Assert.Equal(8 * 6, fit.GlobalStep);
        double first = fit.Epochs[0].Get("loss"), last = fit.Last!.Get("loss");
        Assert.True(last < first / 4, $"loss went from {first} to {last}");
        Assert.True(fit.Last.Get("accuracy") > 0.95, $"training accuracy {fit.Last.Get("accuracy")}");
        var eval = trainer.Evaluate(new DataLoader<Sample>(TinyProblem.Blobs(60, seed: 2), 32));
        Assert.True(eval.Metrics["accuracy"] > 0.95, $"held-out accuracy {eval.Metrics["accuracy"]}");
        Assert.Equal(60, eval.Samples);
    }

    [Fact]
    public void Epoch_summary_has_training_validation_and_learning_rate_values()
    {
        var model = TinyProblem.Mlp();
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0.05), new TrainerOptions { Epochs = 2 });
        var fit = trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(48), 16), new DataLoader<Sample>(TinyProblem.Blobs(30, seed: 5), 8));

        var values = fit.Last!.Values;
        Assert.Equal(["accuracy", "loss", "lr", "val_accuracy", "val_loss"], values.Keys.Order());
        Assert.Equal(0.05, values["lr"]);
        Assert.Equal(trainer.Evaluate(new DataLoader<Sample>(TinyProblem.Blobs(30, seed: 5), 30)).Loss, values["val_loss"], 5);
        TensorAssert.Throws<KeyNotFoundException>(() => fit.Last.Get("f1"), "'f1'", "val_loss");
    }

    [Fact]
    public void Early_stopping_stops_after_patience_epochs_without_improvement_and_says_why()
    {
        // With a learning rate of 0 and no shuffling every epoch has exactly the same loss: epoch 1 sets the best,
        // and each later epoch fails to improve on it.
        var model = TinyProblem.Mlp();
        var stopping = new EarlyStopping("loss", patience: 2);
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0), new TrainerOptions { Epochs = 20 }, stopping);
        var fit = trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(48), 16));

        Assert.Equal(3, fit.Epochs.Count);
        Assert.Equal(2, stopping.Wait);
        Assert.Equal(fit.Epochs[0].Get("loss"), stopping.Best);
        Assert.StartsWith("early stopping: loss did not improve for 2 epochs", fit.StopReason);
    }

    [Fact]
    public void Early_stopping_on_a_score_waits_for_it_to_rise()
    {
        var stopping = new EarlyStopping("val_accuracy", patience: 2);
        var model = TinyProblem.Mlp();
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0), new TrainerOptions { Epochs = 5 }, stopping);
        var summaries = new[] { 0.5, 0.7, 0.6, 0.8, 0.8, 0.79 };
        var stoppedAt = -1;
        for (int e = 0; e < summaries.Length && stoppedAt < 0; e++)
        {
            stopping.OnEpochEnd(trainer, new EpochSummary(e, e, new Dictionary<string, double> { ["val_accuracy"] = summaries[e] }, TimeSpan.Zero));
            if (trainer.StopRequested) stoppedAt = e;
        }
        // 0.5 → 0.7 improves, 0.6 does not (wait 1), 0.8 improves (wait 0), 0.8 and 0.79 do not (wait 2): stop there.
        Assert.Equal(5, stoppedAt);
        Assert.Equal(2, stopping.Wait);
        Assert.Equal(0.8, stopping.Best);
    }

    [Fact]
    public void A_loss_that_becomes_NaN_throws_naming_the_step_before_touching_the_weights()
    {
        var model = TinyProblem.Mlp();
        int calls = 0;
        Tensor Loss(Tensor output, Tensor target)
        {
            var loss = Functional.CrossEntropy(output, target);
            return ++calls == 4 ? loss.Mul(double.NaN) : loss;
        }
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.1), Loss, new TrainerOptions { Epochs = 3 });

        var ex = TensorAssert.Throws<TrainingDivergedException>(() => trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(48), 16)),
            "NaN", "epoch 2, batch 1", "global step 3");
        Assert.Equal(3, trainer.GlobalStep);
        foreach (var (name, values) in TinyProblem.Weights(model))
            Assert.True(values.All(double.IsFinite), $"{name} holds non-finite values after the diverged step: {ex.Message}");
    }

    [Fact]
    public void Two_accumulated_batches_of_B_equal_one_batch_of_2B()
    {
        var data = TinyProblem.Blobs(64);
        var small = TinyProblem.Mlp();
        var accumulating = NewTrainer(small, new Sgd(small.Parameters(), 0.2), new TrainerOptions { Epochs = 2, GradientAccumulationSteps = 2 });
        var fitSmall = accumulating.Fit(new DataLoader<Sample>(data, 8));
        var large = TinyProblem.Mlp();
        var plain = NewTrainer(large, new Sgd(large.Parameters(), 0.2), new TrainerOptions { Epochs = 2 });
        var fitLarge = plain.Fit(new DataLoader<Sample>(data, 16));

        Assert.Equal(8, fitSmall.GlobalStep);
        Assert.Equal(8, fitLarge.GlobalStep);
        foreach (var (name, values) in TinyProblem.Weights(large))
            TensorAssert.Close(values, TinyProblem.Weights(small)[name], atol: 1e-6, rtol: 1e-5, what: name + " ");
        Assert.Equal(fitLarge.Last!.Get("loss"), fitSmall.Last!.Get("loss"), 5);
    }

    [Fact]
    public void Accumulated_gradients_left_at_the_end_of_an_epoch_are_applied()
    {
        // 5 batches with accumulation 2: steps after batches 2, 4 and (flushed) 5.
        var model = TinyProblem.Mlp();
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0.1), new TrainerOptions { Epochs = 2, GradientAccumulationSteps = 2 });
        trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(80), 16));
        Assert.Equal(6, trainer.GlobalStep);
        Assert.All(model.Parameters(), p => Assert.True(p.Grad is null || p.Grad.ToArray<double>().All(g => g == 0), "gradients were left over after the flush"));
    }

    [Fact]
    public void Max_steps_stops_mid_epoch()
    {
        var model = TinyProblem.Mlp();
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0.1), new TrainerOptions { Epochs = 10, MaxSteps = 5 });
        var fit = trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(96), 16));

        Assert.Equal(5, fit.GlobalStep);
        Assert.Equal("reached 5 steps", fit.StopReason);
        Assert.Empty(fit.Epochs);
        Assert.Equal(0, trainer.Epoch);
        Assert.Equal(5, trainer.BatchInEpoch);
        // Five steps took time though no epoch finished (the CLI said "training took 0.0 s").
        Assert.True(fit.UnfinishedEpochTime > TimeSpan.Zero);
        Assert.Equal(fit.UnfinishedEpochTime, fit.TrainingTime);
    }

    [Fact]
    public void Max_steps_at_an_epoch_boundary_still_finishes_the_epoch()
    {
        var model = TinyProblem.Mlp();
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0.1), new TrainerOptions { Epochs = 10, MaxSteps = 12 });
        var fit = trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(96), 16));

        Assert.Equal(2, fit.Epochs.Count);
        Assert.Equal(12, fit.GlobalStep);
        Assert.Equal(0, trainer.BatchInEpoch);
        Assert.Equal(TimeSpan.Zero, fit.UnfinishedEpochTime);
        Assert.Equal(fit.Epochs[0].Duration + fit.Epochs[1].Duration, fit.TrainingTime);
    }

    [Fact]
    public void Request_stop_from_a_callback_ends_after_that_batch()
    {
        var model = TinyProblem.Mlp();
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0.1), new TrainerOptions { Epochs = 10 }, new StopAfter(epoch: 1, batches: 2, "enough"));
        var fit = trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(96), 16));

        Assert.Equal("enough", fit.StopReason);
        Assert.Single(fit.Epochs);
        Assert.Equal(8, fit.GlobalStep);
        Assert.Equal(1, trainer.Epoch);
        Assert.Equal(2, trainer.BatchInEpoch);
    }

    [Fact]
    public void Evaluate_runs_in_eval_mode_without_gradients_and_restores_the_mode()
    {
        var probe = new ModeProbe();
        var model = new Sequential(TinyProblem.Mlp(), probe);
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0.1), new TrainerOptions());
        var data = new DataLoader<Sample>(TinyProblem.Blobs(20), 8);

        model.Train();
        var result = trainer.Evaluate(data);
        Assert.True(model.Training);
        Assert.Equal([false, false, false], probe.Seen);
        Assert.Equal([false, false, false], probe.Recorded);
        Assert.Equal(20, result.Samples);
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad));

        model.Eval();
        trainer.Evaluate(data);
        Assert.False(model.Training);
    }

    [Fact]
    public void Evaluate_restores_train_mode_when_the_model_throws()
    {
        var probe = new ModeProbe { ThrowOnCall = 2 };
        var model = new Sequential(TinyProblem.Mlp(), probe);
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0.1), new TrainerOptions());
        model.Train();
        Assert.Throws<InvalidOperationException>(() => trainer.Evaluate(new DataLoader<Sample>(TinyProblem.Blobs(20), 8)));
        Assert.True(model.Training);
    }

    [Fact]
    public void Evaluate_weights_the_loss_by_batch_size()
    {
        var model = TinyProblem.Mlp();
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0.1), new TrainerOptions());
        var data = TinyProblem.Blobs(21);
        // Batches of 8, 8 and 5 must average to the loss over all 21 samples at once.
        var whole = trainer.Evaluate(new DataLoader<Sample>(data, 21));
        var pieces = trainer.Evaluate(new DataLoader<Sample>(data, 8));
        Assert.Equal(whole.Loss, pieces.Loss, 5);
        Assert.Equal(whole.Metrics["accuracy"], pieces.Metrics["accuracy"], 12);
    }

    [Fact]
    public void Predict_concatenates_the_outputs_of_every_batch_in_order()
    {
        var model = TinyProblem.Mlp(dropout: 0.5);
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0.1), new TrainerOptions());
        var data = TinyProblem.Blobs(21);
        model.Train();

        var predicted = trainer.Predict(new DataLoader<Sample>(data, 8));

        Assert.True(model.Training);
        model.Eval();
        Tensor expected;
        using (new Loom.Autograd.NoGrad()) expected = model.Forward(data.Inputs);
        TensorAssert.Close(expected, predicted, atol: 1e-6, rtol: 1e-5);
        Assert.False(predicted.RequiresGrad);
    }

    [Fact]
    public void Predict_of_no_batches_is_empty()
    {
        var model = TinyProblem.Mlp();
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 0.1), new TrainerOptions());
        Assert.Equal(0, trainer.Predict([]).Numel);
    }

    [Fact]
    public void A_loss_that_is_not_a_scalar_is_refused_with_its_shape()
    {
        var model = TinyProblem.Mlp();
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.1), (o, t) => Functional.CrossEntropy(o, t, reduction: Reduction.None), new TrainerOptions());
        TensorAssert.Throws<InvalidOperationException>(() => trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(16), 8)), "[8]", "scalar");
    }

    [Fact]
    public void Invalid_options_are_refused_at_construction()
    {
        var model = TinyProblem.Mlp();
        var sgd = new Sgd(model.Parameters(), 0.1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, sgd, TinyProblem.CrossEntropy, new TrainerOptions { GradientAccumulationSteps = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, sgd, TinyProblem.CrossEntropy, new TrainerOptions { ClipGradNorm = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, sgd, TinyProblem.CrossEntropy, new TrainerOptions { MaxSteps = -1 }));
    }

    [Fact]
    public void Gradient_norm_clipping_bounds_each_update()
    {
        // With plain SGD the update is lr · grad, so after clipping the norm of the change is at most lr · max norm.
        var model = TinyProblem.Mlp();
        var before = TinyProblem.Weights(model);
        var trainer = NewTrainer(model, new Sgd(model.Parameters(), 1.0), new TrainerOptions { Epochs = 1, ClipGradNorm = 0.01, MaxSteps = 1 });
        trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(16), 16));
        double squared = TinyProblem.Weights(model).Sum(kv => kv.Value.Select((v, i) => (v - before[kv.Key][i]) * (v - before[kv.Key][i])).Sum());
        Assert.InRange(Math.Sqrt(squared), 0.005, 0.01 + 1e-6);
    }

    /// <summary>Passes its input through, noting whether the model was in training mode and recording autograd.</summary>
    private sealed class ModeProbe : Module<Tensor, Tensor>
    {
        public List<bool> Seen { get; } = [];

        public List<bool> Recorded { get; } = [];

        public int ThrowOnCall { get; init; } = -1;

        protected override Tensor ForwardCore(Tensor input)
        {
            Seen.Add(Training);
            Recorded.Add(input.RequiresGrad);
            if (Seen.Count == ThrowOnCall) throw new InvalidOperationException("probe failure");
            return input;
        }
    }
}

/// <summary>Requests a stop after <c>batches</c> batches of epoch <c>epoch</c> (0-based), like Ctrl-C would.</summary>
internal sealed class StopAfter(int epoch, int batches, string reason = "interrupted") : ICallback
{
    public void OnBatchEnd(Trainer trainer, StepInfo step)
    {
        if (step.Epoch == epoch && step.Batch + 1 == batches) trainer.RequestStop(reason);
    }
}
