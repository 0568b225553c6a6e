namespace Loom.Explain;

/// <summary>
/// Integrated gradients with respect to a layer's output rather than the model's input, as Captum's
/// <c>LayerIntegratedGradients</c>: for text models, whose inputs are token ids, attributions land on the embedding
/// vectors (and, summed over the embedding, on each token). The path runs from a zero output of the layer to its
/// actual output; completeness holds as for <see cref="IntegratedGradients"/> with f(baseline) the model's output
/// when the layer gives zeros.
/// </summary>
/// <remarks>
/// A forward hook scales the layer's output in place by α (each path row its own) and makes it the leaf that gradients
/// are taken for. That needs a layer whose output is a tensor of its own (an embedding lookup, a linear layer), not a
/// view of its input (Identity, Dropout in evaluation), which the hook refuses. The model's parameters are frozen while
/// it runs, so nothing before the layer records a graph.
/// </remarks>
public sealed class LayerIntegratedGradients(Module<Tensor, Tensor> model, Module layer)
{
    public int Steps { get; init; } = IntegratedGradients.DefaultSteps;

    public IntegrationMethod Method { get; init; } = IntegrationMethod.GaussLegendre;

    /// <summary>Rows (path points) per forward and backward pass.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Attributions [N, layer output per sample…] and the completeness check.</summary>
    public IntegratedGradientsResult Explain(Tensor inputs, Tensor? targets = null)
    {
        if (model.Training) throw new InvalidOperationException("explaining a model in training mode: batch norm would mix samples and dropout would make attributions random; call model.Eval() first");
        if (!GradMode.IsEnabled) throw new InvalidOperationException("gradient attributions need autograd: call them outside a NoGrad scope");
        if (targets is not null && (targets.Rank != 1 || targets.Shape[0] != inputs.Shape[0]))
            throw new ArgumentException($"targets must be [N] with N = {inputs.Shape[0]} (one class per sample), got {targets.Shape}");
        var (alphas, weights) = Quadrature.Rule(Method, Steps);
        int n = inputs.Shape[0], steps = alphas.Length;
        int samplesPerChunk = Math.Max(1, BatchSize / steps);
        var chunks = new List<Tensor>();
        var deltas = new double[n];
        var differences = new double[n];
        var atInputs = Outputs(inputs, targets, alpha: 1);
        var atBaselines = Outputs(inputs, targets, alpha: 0);
        var parameters = model.Parameters().Where(p => p.RequiresGrad).ToList();
        foreach (var p in parameters) p.RequiresGrad = false;
        try
        {
            for (int start = 0; start < n; start += samplesPerChunk)
            {
                int rows = Math.Min(samplesPerChunk, n - start);
                var sampleInputs = inputs.Narrow(0, start, rows);
                // [steps × rows] path rows, step-major: row r is sample r % rows at α of step r / rows.
                var repeated = sampleInputs.Unsqueeze(0).Expand([steps, .. sampleInputs.Shape.ToArray()]).Contiguous().Reshape([steps * rows, .. sampleInputs.Shape.ToArray()[1..]]);
                Tensor? pathTargets = targets is null ? null : targets.To(DType.Int64).Narrow(0, start, rows).Unsqueeze(0).Expand(steps, rows).Contiguous().Reshape(steps * rows);
                var rowAlphas = Enumerable.Range(0, steps * rows).Select(r => alphas[r / rows]).ToArray();
                Tensor summed;
                Tensor actual;
                using (var scope = new MemoryScope())
                {
                    var (gradients, layerOutputs) = PathGradients(repeated, pathTargets, rowAlphas);
                    var shape = gradients.Shape.ToArray()[1..];
                    var weight = Tensor.FromArray(weights).To(gradients.DType).Reshape([steps, 1, .. Enumerable.Repeat(1, shape.Length)]);
                    using (MemoryScope.Persistent())
                    {
                        summed = gradients.Reshape([steps, rows, .. shape]).Mul(weight).Sum(0);
                        // The unscaled output: the last step's rows divided by their α (never 0 for these rules' last node).
                        actual = layerOutputs.Reshape([steps, rows, .. shape]).Select(0, steps - 1).Div(alphas[^1]);
                    }
                }
                var attribution = summed.Mul(actual);
                chunks.Add(attribution);
                var sums = attribution.Reshape(rows, -1).Sum(1).To(DType.Float64).ToArray<double>();
                for (int i = 0; i < rows; i++)
                {
                    differences[start + i] = atInputs[start + i] - atBaselines[start + i];
                    deltas[start + i] = sums[i] - differences[start + i];
                }
            }
        }
        finally
        {
            foreach (var p in parameters) p.RequiresGrad = true;
        }
        return new IntegratedGradientsResult(Tensor.Cat(chunks, 0), deltas, differences);
    }

    /// <summary>Gradients of the selected outputs with respect to the layer's output scaled row by row, and those scaled outputs.</summary>
    private (Tensor Gradients, Tensor LayerOutputs) PathGradients(Tensor inputs, Tensor? targets, double[] rowAlphas)
    {
        int total = inputs.Shape[0];
        var gradients = new List<Tensor>();
        var outputs = new List<Tensor>();
        for (int start = 0; start < total; start += BatchSize)
        {
            int rows = Math.Min(BatchSize, total - start);
            Tensor? leaf = null;
            var alpha = rowAlphas.AsSpan(start, rows).ToArray();
            var hook = layer.RegisterForwardHook((_, input, output) => leaf = Scale(input, output, alpha));
            Tensor selected;
            try
            {
                selected = ModelOutputs.Select(model.Forward(inputs.Narrow(0, start, rows)), targets?.Narrow(0, start, rows));
            }
            finally
            {
                hook.Remove();
            }
            if (leaf is null) throw new InvalidOperationException("the layer to explain did not run in the model's forward pass");
            selected.Sum().Backward();
            gradients.Add(leaf.Grad ?? Tensor.ZerosLike(leaf));
            outputs.Add(leaf.Detach());
        }
        return (Tensor.Cat(gradients, 0), Tensor.Cat(outputs, 0));
    }

    /// <summary>The explained output per sample when the layer's output is multiplied by <paramref name="alpha"/>.</summary>
    private double[] Outputs(Tensor inputs, Tensor? targets, double alpha)
    {
        var values = new double[inputs.Shape[0]];
        ModelOutputs.InBatches(values.Length, BatchSize, (start, rows) =>
        {
            var scale = Enumerable.Repeat(alpha, rows).ToArray();
            var hook = layer.RegisterForwardHook((_, input, output) => Scale(input, output, scale));
            try
            {
                var selected = ModelOutputs.Select(model.Forward(inputs.Narrow(0, start, rows)), targets?.Narrow(0, start, rows));
                selected.To(DType.Float64).Contiguous().AsReadOnlySpan<double>().CopyTo(values.AsSpan(start, rows));
            }
            finally
            {
                hook.Remove();
            }
        });
        return values;
    }

    private static Tensor Scale(object input, object output, double[] alpha)
    {
        if (output is not Tensor t) throw new InvalidOperationException($"the layer to explain gives a {output.GetType().Name}, not a tensor");
        if (input is Tensor i && ReferenceEquals(i.Storage, t.Storage))
            throw new InvalidOperationException("the layer to explain returns a view of its input (Identity, Dropout in evaluation): explain a layer that computes a new tensor, such as the embedding");
        if (t.RequiresGrad) throw new InvalidOperationException("the layer's output already takes part in a graph: explain the first layer the gradients should reach, such as the embedding");
        var factor = Tensor.FromArray(alpha).To(t.DType).Reshape([alpha.Length, .. Enumerable.Repeat(1, t.Rank - 1)]);
        using (new NoGrad()) t.MulInPlace(factor);
        return t.RequiresGrad_();
    }
}
