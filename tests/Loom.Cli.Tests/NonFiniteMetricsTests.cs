using Loom.Nn;
using Loom.Train;

namespace Loom.Cli.Tests;

/// <summary>
/// A test metric that is not a finite number (a NaN loss, an undefined score) is written to metrics.jsonl as null, as
/// the epoch lines write it, rather than failing the run after training with "cannot be written as valid JSON".
/// </summary>
public sealed class NonFiniteMetricsTests
{
    /// <summary>Classification whose evaluation reports a NaN loss and an infinite accuracy.</summary>
    private sealed class NonFiniteEvaluation(ITask inner) : ITask
    {
        public string Name => inner.Name;
        public string Description => inner.Description;
        public string AcceptedData => inner.AcceptedData;
        public IReadOnlyList<DataKind> Kinds => inner.Kinds;
        public IReadOnlyList<TaskOption> Options => inner.Options;
        public DataKind? Recognize(string data) => inner.Recognize(data);
        public IReadOnlyList<string> Models(DataKind kind) => inner.Models(kind);
        public TrainingDefaults TrainingDefaults => inner.TrainingDefaults;
        public TrainingConfig NormalizeOptions(TrainingConfig config) => inner.NormalizeOptions(config);
        public TaskData Load(TrainingConfig config, RunFolder? trainedRun = null, bool newData = false) => inner.Load(config, trainedRun, newData);
        public Module<Tensor, Tensor> CreateModel(TrainingConfig config, TaskData data) => inner.CreateModel(config, data);
        public Func<Tensor, Tensor, Tensor> Loss(TaskData data) => inner.Loss(data);
        public IReadOnlyList<Func<IMetric>> Metrics(TaskData data) => inner.Metrics(data);
        public ResultTable Predict(Evaluator evaluator, TaskData data, IEnumerable<Batch> test) => inner.Predict(evaluator, data, test);

        public TaskEvaluation Evaluate(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
        {
            var real = inner.Evaluate(evaluator, data, test);
            return new TaskEvaluation(new EvaluationResult(double.NaN, new Dictionary<string, double> { ["accuracy"] = double.PositiveInfinity }, real.Samples));
        }
    }

    [Fact]
    public void A_non_finite_test_metric_is_written_as_null()
    {
        using var temp = new TempFolder();
        var config = new TrainingConfig { Model = "mlp", MaxSteps = 2, Threads = 1 }.WithTaskOptions(new ClassificationOptions { Hidden = 8 });
        var folder = new RunFolder(temp.File("run"));
        var setup = Pipeline.Prepare(config, folder);

        Pipeline.Train(setup with { Task = new NonFiniteEvaluation(setup.Task) }, folder);

        var test = Assert.Single(TestData.Metrics(folder.Path), l => (string?)l["kind"] == "test");
        Assert.True(test.ContainsKey("loss") && test["loss"] is null, test.ToJsonString());
        Assert.True(test.ContainsKey("accuracy") && test["accuracy"] is null, test.ToJsonString());
        Assert.Equal(2000, (int)test["samples"]!);
        Assert.Contains("| loss | NaN |", File.ReadAllText(folder.ReportPath));
    }
}
