using Loom.Nn;

namespace Loom.Train.Tests.Training;

[Collection(GlobalStateCollection.Name)]
public class EvaluatorTests
{
    [Fact]
    public void Evaluate_needs_no_optimiser_and_averages_loss_and_metrics_over_all_samples()
    {
        var model = TinyProblem.Mlp();
        var data = TinyProblem.Blobs(21);
        var evaluator = new Evaluator(model, TinyProblem.CrossEntropy, TinyProblem.Metrics);

        var result = evaluator.Evaluate(new DataLoader<Sample>(data, 8));

        model.Eval();
        Tensor output;
        using (new Loom.Autograd.NoGrad()) output = model.Forward(data.Inputs);
        double loss = TinyProblem.CrossEntropy(output, data.Targets).Item();
        var scores = output.ToArray<float>();
        var labels = data.Targets.ToArray<long>();
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            var row = scores.AsSpan(i * TinyProblem.Classes, TinyProblem.Classes);
            int best = 0;
            for (int c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
            if (best == labels[i]) correct++;
        }
        Assert.Equal(21, result.Samples);
        Assert.Equal(loss, result.Loss, 5);
        Assert.Equal(correct / 21.0, result.Metrics["accuracy"], 12);
    }

    [Fact]
    public void Predict_keeps_a_float64_model_in_float64()
    {
        var g = new Loom.Random.Generator(3);
        var model = new Sequential(new Linear(TinyProblem.Features, 16, dtype: DType.Float64, generator: g), new Tanh(),
            new Linear(16, TinyProblem.Classes, dtype: DType.Float64, generator: g));
        var blobs = TinyProblem.Blobs(21);
        var data = new TensorDataset(blobs.Inputs.To(DType.Float64), blobs.Targets);

        var predicted = new Evaluator(model, TinyProblem.CrossEntropy).Predict(new DataLoader<Sample>(data, 8));

        Assert.Equal(DType.Float64, predicted.DType);
        Tensor expected;
        using (new Loom.Autograd.NoGrad()) expected = model.Forward(data.Inputs);
        // Far below float32's resolution (~1e-7 relative): a round trip through float32 fails this.
        TensorAssert.Close(expected.ToArray<double>(), predicted.ToArray<double>(), atol: 1e-13, rtol: 1e-13);
    }

    [Fact]
    public void The_trainer_validates_through_its_evaluator()
    {
        var model = TinyProblem.Mlp();
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.05), TinyProblem.CrossEntropy, new TrainerOptions { Epochs = 1 }, TinyProblem.Metrics);
        var validation = new DataLoader<Sample>(TinyProblem.Blobs(30, seed: 5), 30);
        var fit = trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(48), 16), validation);

        var eval = new Evaluator(model, TinyProblem.CrossEntropy, TinyProblem.Metrics).Evaluate(validation);
        Assert.Same(model, trainer.Evaluator.Model);
        Assert.Equal(eval.Loss, fit.Last!.Get("val_loss"));
        Assert.Equal(eval.Metrics["accuracy"], fit.Last.Get("val_accuracy"));
    }
}
