namespace Loom.Compress;

/// <summary>
/// Folds inference-mode batch norm into the convolution or linear layer before it: with s = γ / √(var + ε), the
/// pair computes s·(W·x + b − mean) + β, which is one layer with weights s[o]·W[o, …] and bias s·(b − mean) + β.
/// The first step of static quantisation (the batch norm disappears from the quantised graph) and a speed-up of its
/// own for float inference.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>
    /// In place: every <see cref="Conv2d"/> or <see cref="Linear"/> directly followed by a batch norm with running
    /// statistics gets the folded weights and a bias, and the batch norm becomes <see cref="Identity"/> (so the layers
    /// keep their indices and names). Returns the indices of the folded batch norms. Computed in float64.
    /// </summary>
    public static IReadOnlyList<int> Fold(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var folded = new List<int>();
        using var noGrad = new NoGrad();
        for (int i = 0; i + 1 < model.Count; i++)
        {
            if (model[i] is not (Conv2d or Linear) || model[i + 1] is not BatchNormBase bn) continue;
            if (bn.RunningMean is null || bn.RunningVar is null)
                throw new NotSupportedException($"batch-norm folding: layer {i + 1} keeps no running statistics, so it has no inference form to fold");
            string name = (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            model.SetSubmodule(i.ToString(System.Globalization.CultureInfo.InvariantCulture), FoldInto(model[i], bn));
            model.SetSubmodule(name, new Identity());
            folded.Add(i + 1);
        }
        return folded;
    }

    /// <summary>The single layer equal to <paramref name="layer"/> followed by <paramref name="bn"/> in eval mode.</summary>
    public static Module<Tensor, Tensor> FoldInto(Module<Tensor, Tensor> layer, BatchNormBase bn)
    {
        var (weight, bias, result) = layer switch
        {
            Conv2d c => (c.Weight, c.Bias, (Module<Tensor, Tensor>)new Conv2d(c.InChannels, c.OutChannels, c.KernelSize, c.Stride, c.Padding, c.Dilation, c.Groups, bias: true)),
            Linear l => (l.Weight, l.Bias, new Linear(l.InFeatures, l.OutFeatures, bias: true)),
            _ => throw new ArgumentException($"batch-norm folding: cannot fold into {layer.GetType().Name}"),
        };
        if (layer is Conv2d { PaddingMode: not null }) throw new NotSupportedException("batch-norm folding: convolutions with named padding modes are not supported");
        int outputs = weight.Shape[0], row = weight.Numel / outputs;
        if (bn.NumFeatures != outputs) throw new ArgumentException($"batch-norm folding: batch norm of {bn.NumFeatures} features after a layer of {outputs} outputs");
        var w = weight.Contiguous().ToArray<float>();
        var b = bias?.Contiguous().ToArray<float>() ?? new float[outputs];
        var mean = bn.RunningMean!.ToArray<float>();
        var variance = bn.RunningVar!.ToArray<float>();
        var gamma = bn.Weight?.ToArray<float>();
        var beta = bn.Bias?.ToArray<float>();
        var newW = new float[w.Length];
        var newB = new float[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double s = (gamma?[o] ?? 1.0) / Math.Sqrt(variance[o] + bn.Eps);
            for (int p = 0; p < row; p++) newW[o * row + p] = (float)(s * w[o * row + p]);
            newB[o] = (float)(s * (b[o] - mean[o]) + (beta?[o] ?? 0.0));
        }
        var (targetW, targetB) = result switch
        {
            Conv2d c => (c.Weight, c.Bias!),
            Linear l => (l.Weight, l.Bias!),
            _ => throw new InvalidOperationException(),
        };
        targetW.CopyFrom(Tensor.FromArray(newW, weight.Shape.Dims.ToArray()));
        targetB.CopyFrom(Tensor.FromArray(newB));
        if (!layer.Training) result.Eval();
        return result;
    }
}
