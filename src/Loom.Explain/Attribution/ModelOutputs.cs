namespace Loom.Explain;

/// <summary>
/// What every attribution method does with the model: the explained output per sample, and its gradient with respect to
/// the input, computed a batch of rows at a time. The rows of a batch are independent samples (the model is in
/// evaluation mode), so one backward pass of the sum of the selected outputs gives every row's own gradient.
/// </summary>
internal static class ModelOutputs
{
    /// <summary>The explained value per sample: output[i, targets[i]], or the output itself when it is one value per sample.</summary>
    public static Tensor Select(Tensor output, Tensor? targets)
    {
        if (targets is null)
        {
            if (output.Rank == 1) return output;
            if (output.Rank == 2 && output.Shape[1] == 1) return output.Reshape(-1);
            throw new ArgumentException($"the model gives {output.Shape} outputs per batch: name the output to explain with targets (a class per sample)");
        }
        if (output.Rank != 2)
            throw new ArgumentException($"targets select a column of a [N, C] output, but the model gives {output.Shape}");
        if (targets.Rank != 1 || targets.Shape[0] != output.Shape[0])
            throw new ArgumentException($"targets must be [N] with N = {output.Shape[0]} (one class per sample), got {targets.Shape}");
        return output.Gather(1, targets.To(DType.Int64).Unsqueeze(1)).Reshape(-1);
    }

    /// <summary>
    /// Checks what every method needs of the model and its inputs: evaluation mode (in training mode batch norm would
    /// mix the samples of a batch and dropout would make attributions random) and targets that match the samples.
    /// </summary>
    public static void Check(Module model, Tensor inputs, Tensor? targets)
    {
        if (model.Training)
            throw new InvalidOperationException("explaining a model in training mode: batch norm would mix samples and dropout would make attributions random; call model.Eval() first");
        if (inputs.Rank < 1 || inputs.Shape[0] == 0) throw new ArgumentException($"inputs must be [N, …] with at least one sample, got {inputs.Shape}");
        if (inputs.DType is not (DType.Float32 or DType.Float64)) throw new ArgumentException($"inputs must be float32 or float64 to take gradients, got {inputs.DType}");
        if (targets is not null && (targets.Rank != 1 || targets.Shape[0] != inputs.Shape[0]))
            throw new ArgumentException($"targets must be [N] with N = {inputs.Shape[0]} (one class per sample), got {targets.Shape}");
    }

    /// <summary>The explained output per sample, without gradients, in batches of <paramref name="batchSize"/> rows.</summary>
    public static double[] Values(Module<Tensor, Tensor> model, Tensor inputs, Tensor? targets, int batchSize)
    {
        var values = new double[inputs.Shape[0]];
        InBatches(values.Length, batchSize, (start, rows) =>
        {
            var selected = Select(model.Forward(inputs.Narrow(0, start, rows)), targets?.Narrow(0, start, rows)).To(DType.Float64);
            selected.Contiguous().AsReadOnlySpan<double>().CopyTo(values.AsSpan(start, rows));
        });
        return values;
    }

    /// <summary>
    /// Calls <paramref name="batch"/>(start, rows) for consecutive batches of at most <paramref name="batchSize"/> of
    /// <paramref name="n"/> rows, without gradients, each in its own memory scope: the forward passes that only read
    /// the model's outputs keep neither graphs nor intermediate tensors beyond their batch.
    /// </summary>
    public static void InBatches(int n, int batchSize, Action<int, int> batch)
    {
        using var noGrad = new NoGrad();
        for (int start = 0; start < n; start += batchSize)
        {
            using var scope = new MemoryScope();
            batch(start, Math.Min(batchSize, n - start));
        }
    }

    /// <summary>
    /// d output[i, targets[i]] / d inputs[i] for every row, in batches of <paramref name="batchSize"/> rows, and the
    /// outputs themselves. The model's parameters are frozen meanwhile: their gradients are not wanted, would cost a
    /// second matrix product per layer, and would land in the user's <c>.Grad</c>.
    /// </summary>
    public static (Tensor Gradients, double[] Outputs) Gradients(Module<Tensor, Tensor> model, Tensor inputs, Tensor? targets, int batchSize)
    {
        int n = inputs.Shape[0];
        var outputs = new double[n];
        Tensor gradients;
        using (MemoryScope.Persistent()) gradients = Tensor.Zeros(inputs.Shape, inputs.DType);
        if (!GradMode.IsEnabled) throw new InvalidOperationException("gradient attributions need autograd: call them outside a NoGrad scope");
        using var frozen = new FrozenParameters(model);
        for (int start = 0; start < n; start += batchSize)
        {
            int rows = Math.Min(batchSize, n - start);
            using var scope = new MemoryScope();
            var x = inputs.Narrow(0, start, rows).Clone().RequiresGrad_();
            var selected = Select(model.Forward(x), targets?.Narrow(0, start, rows));
            selected.Sum().Backward();
            using (new NoGrad())
            {
                // A model whose output does not depend on its input leaves no gradient: the attribution is zero.
                if (x.Grad is { } grad) gradients.Narrow(0, start, rows).CopyFrom(grad);
                selected.Detach().To(DType.Float64).Contiguous().AsReadOnlySpan<double>().CopyTo(outputs.AsSpan(start, rows));
            }
        }
        return (gradients, outputs);
    }

    /// <summary>Turns off requires-grad on a module's parameters for its lifetime and restores each flag after.</summary>
    private sealed class FrozenParameters : IDisposable
    {
        private readonly List<Parameter> _frozen = [];

        public FrozenParameters(Module model)
        {
            foreach (var p in model.Parameters())
                if (p.RequiresGrad)
                {
                    p.RequiresGrad = false;
                    _frozen.Add(p);
                }
        }

        public void Dispose()
        {
            foreach (var p in _frozen) p.RequiresGrad = true;
        }
    }
}
