namespace Loom.Explain;

/// <summary>
/// Permutation feature importance (Breiman 2001; scikit-learn's permutation_importance): shuffle one feature column
/// across the samples, which breaks its link with the target while keeping its distribution, and measure how much the
/// score drops. Use held-out data: on the training data it measures what the model memorised, not what generalises.
/// Works for any model and metric (Captum's <c>FeaturePermutation</c> is the per-batch form of the same idea).
/// </summary>
public static class PermutationImportance
{
    /// <param name="score">(inputs, targets) → a score where higher is better (accuracy, −loss, R²).</param>
    /// <param name="inputs">[N, F] held-out rows; features along axis 1 (an [N, F, …] input shuffles each feature's whole slice).</param>
    /// <param name="repeats">Shuffles per feature; the mean and spread over them are reported.</param>
    public static PermutationImportanceResult Compute(Func<Tensor, Tensor, double> score, Tensor inputs, Tensor targets, int repeats = 5, ulong seed = 0)
    {
        if (inputs.Rank < 2) throw new ArgumentException($"permutation importance takes rows of features [N, F, …], got {inputs.Shape}");
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "permutation importance needs at least one repeat");
        int n = inputs.Shape[0], features = inputs.Shape[1];
        if (targets.Shape[0] != n) throw new ArgumentException($"{n} rows of inputs but {targets.Shape[0]} targets");
        var x = inputs.Detach().Contiguous();
        double baseline = score(x, targets);
        var generator = new Generator(seed);
        var drops = new double[features][];
        for (int f = 0; f < features; f++)
        {
            drops[f] = new double[repeats];
            for (int r = 0; r < repeats; r++)
            {
                using var scope = new MemoryScope();
                var permutation = Tensor.FromArray(generator.Permutation(n).Select(i => (long)i).ToArray());
                var shuffled = x.Clone();
                using (new NoGrad())
                    shuffled.Narrow(1, f, 1).CopyFrom(x.Narrow(1, f, 1).IndexSelect(0, permutation));
                drops[f][r] = baseline - score(shuffled, targets);
            }
        }
        return new PermutationImportanceResult(baseline, drops);
    }

    /// <summary>Classification accuracy of <paramref name="model"/> (argmax of its outputs) against Int64 class targets, in batches.</summary>
    public static Func<Tensor, Tensor, double> Accuracy(Module<Tensor, Tensor> model, int batchSize = 1024) => (inputs, targets) =>
    {
        var predictions = Predict(model, inputs, batchSize, o => o.ArgMax(1));
        var truth = targets.To(DType.Int64).ToArray<long>();
        return predictions.Zip(truth, (p, t) => p == t ? 1.0 : 0.0).Average();
    };

    /// <summary>−(mean cross-entropy) of <paramref name="model"/>'s logits against Int64 class targets: a smoother score than accuracy, which small changes do not move.</summary>
    public static Func<Tensor, Tensor, double> NegativeLogLoss(Module<Tensor, Tensor> model, int batchSize = 1024) => (inputs, targets) =>
    {
        double total = 0;
        int n = inputs.Shape[0];
        using var noGrad = new NoGrad();
        for (int start = 0; start < n; start += batchSize)
        {
            int rows = Math.Min(batchSize, n - start);
            using var scope = new MemoryScope();
            var logits = model.Forward(inputs.Narrow(0, start, rows)).To(DType.Float64);
            total += Functional.CrossEntropy(logits, targets.Narrow(0, start, rows).To(DType.Int64)).Item() * rows;
        }
        return -total / n;
    };

    private static long[] Predict(Module<Tensor, Tensor> model, Tensor inputs, int batchSize, Func<Tensor, Tensor> decide)
    {
        var result = new long[inputs.Shape[0]];
        ModelOutputs.InBatches(result.Length, batchSize, (start, rows) =>
            decide(model.Forward(inputs.Narrow(0, start, rows))).To(DType.Int64).ToArray<long>().CopyTo(result, start));
        return result;
    }
}
