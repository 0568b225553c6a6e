using Loom.Autograd;
using Loom.Memory;
using Loom.Nn;

namespace Loom.Train;

/// <summary>
/// Runs a model over data in eval mode without gradients: average loss and metrics (<see cref="Evaluate"/>) or the
/// raw outputs (<see cref="Predict"/>). It needs no optimiser, so evaluating or predicting with a trained model
/// (`loom eval`, `loom predict`) builds only this; the <see cref="Trainer"/> validates through one too.
/// </summary>
/// <param name="model">The network; its forward maps a batch of inputs to outputs.</param>
/// <param name="loss">(outputs, targets) → scalar loss, averaged over a batch.</param>
/// <param name="metrics">Factories of the metrics to compute (a fresh instance per evaluation).</param>
public sealed class Evaluator(Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss, IEnumerable<Func<IMetric>>? metrics = null)
{
    private readonly IReadOnlyList<Func<IMetric>> _metricFactories = metrics?.ToList() ?? [];

    public Module<Tensor, Tensor> Model { get; } = model;

    /// <summary>New instances of the metrics this evaluator computes.</summary>
    public IReadOnlyList<IMetric> CreateMetrics() => _metricFactories.Select(f => f()).ToList();

    /// <summary>
    /// Average loss and metrics over <paramref name="data"/> in eval mode, without gradients; restores the previous
    /// mode. <paramref name="extraMetrics"/> (e.g. a <see cref="ConfusionMatrix"/>) are updated in the same pass and
    /// left for the caller to read.
    /// </summary>
    public EvaluationResult Evaluate(IEnumerable<Batch> data, params IMetric[] extraMetrics)
    {
        var metrics = CreateMetrics();
        var (lossSum, samples) = Accumulate(data, metrics, extraMetrics, RecyclesBatches(data));
        return Result(lossSum, samples, metrics);
    }

    /// <summary>
    /// As <see cref="Evaluate"/> over all of <paramref name="data"/>, with the work shared among data-parallel ranks:
    /// rank r evaluates batches r, r+N, r+2N…, and the loss and metric counters are summed over ranks, so every rank
    /// gets the figures of the whole set (each sample counted once) in 1/N of the time. Every rank must call it. With a
    /// metric that does not reduce (ROC AUC needs every score), each rank evaluates all of the data instead.
    /// </summary>
    internal EvaluationResult EvaluateAcrossRanks(IEnumerable<Batch> data, IDataParallel ranks)
    {
        var metrics = CreateMetrics();
        if (ranks.WorldSize == 1 || metrics.Any(m => m is not IReducibleMetric)) return Evaluate(data);
        var (lossSum, samples) = Accumulate(data.Where((_, i) => i % ranks.WorldSize == ranks.Rank), metrics, [], RecyclesBatches(data));
        Span<double> totals = [lossSum, samples];
        ranks.SumAcrossRanks(totals);
        foreach (var m in metrics) ((IReducibleMetric)m).Reduce(ranks.SumAcrossRanks);
        return Result(totals[0], (long)totals[1], metrics);
    }

    // A loader's enumeration makes new batches that only this evaluation sees: they can go back to the buffer pool
    // after their step (see DataLoader.BatchesAreCopies). Batches from anywhere else (a list kept for every epoch) cannot.
    private static bool RecyclesBatches(IEnumerable<Batch> data) => data is DataLoader<Sample> { BatchesAreCopies: true };

    private (double LossSum, long Samples) Accumulate(IEnumerable<Batch> data, IReadOnlyList<IMetric> metrics, IMetric[] extraMetrics, bool recycleBatches)
    {
        double lossSum = 0;
        long samples = 0;
        InEvalMode(() =>
        {
            foreach (var batch in data)
            {
                using var scope = new MemoryScope();
                if (recycleBatches)
                {
                    MemoryScope.Adopt(batch.Inputs);
                    MemoryScope.Adopt(batch.Targets);
                }
                var output = Model.Forward(batch.Inputs);
                lossSum += loss(output, batch.Targets).Item() * batch.Size;
                samples += batch.Size;
                foreach (var m in metrics) m.Update(output, batch.Targets);
                foreach (var m in extraMetrics) m.Update(output, batch.Targets);
            }
        });
        return (lossSum, samples);
    }

    private static EvaluationResult Result(double lossSum, long samples, IReadOnlyList<IMetric> metrics) =>
        new(samples == 0 ? double.NaN : lossSum / samples, metrics.ToDictionary(m => m.Name, m => m.Compute()), samples);

    /// <summary>
    /// The model's outputs for every batch, concatenated along the first dimension, in the model's output dtype (a
    /// Float64 model predicts Float64); eval mode, no gradients. No batches give an empty Float32 tensor.
    /// </summary>
    public Tensor Predict(IEnumerable<Batch> data)
    {
        var outputs = new List<Tensor>();
        InEvalMode(() =>
        {
            foreach (var batch in data)
            {
                using var scope = new MemoryScope();
                var output = Model.Forward(batch.Inputs);
                // The step's scope returns the output's buffer to the pool; the prediction must outlive it.
                using (MemoryScope.Persistent()) outputs.Add(output.Detach().Clone());
            }
        });
        return outputs.Count switch
        {
            0 => Tensor.Zeros(new Shape(0)),
            1 => outputs[0],
            _ => Tensor.Cat(outputs),
        };
    }

    private void InEvalMode(Action body)
    {
        bool wasTraining = Model.Training;
        Model.Eval();
        try
        {
            using var noGrad = new NoGrad();
            body();
        }
        finally
        {
            Model.Train(wasTraining);
        }
    }
}
