namespace Loom.Compress;

/// <summary>What structured pruning removed from one layer.</summary>
public sealed record PrunedUnits(string Layer, int Before, int After);

/// <summary>
/// Structured pruning of a <see cref="Sequential"/> model: whole hidden neurons of linear layers and output channels of
/// convolutions are removed, giving a genuinely smaller dense model. For each layer that feeds another (through batch
/// norm, element-wise activations, dropout, pooling and flatten), the units with the smallest importance (L1 norm of
/// their weights, scaled by |γ|/√(var + ε) when batch norm follows) are cut from its outputs, from the batch norm's
/// parameters and statistics, and from the next layer's inputs (a flattened channel is its block of columns).
/// </summary>
/// <remarks>
/// A removed unit whose weights are all zero outputs a constant; its contribution to the next layer is folded into
/// that layer's bias, so cutting zero-importance units leaves the outputs unchanged (exactly for a linear next layer;
/// for a padded convolution only when the constant is 0, as it is after ReLU of a non-positive value). The model's
/// last layer keeps its outputs.
/// </remarks>
public static class StructuredPruning
{
    /// <summary>Removes <paramref name="fraction"/> of the units of every prunable layer (at least one is kept), in place.</summary>
    public static IReadOnlyList<PrunedUnits> Prune(Sequential model, double fraction)
    {
        if (!(fraction >= 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "structured pruning: fraction must be in [0, 1)");
        return Cut(model, units => Math.Max(1, (int)Math.Round(units * (1 - fraction))), byImportance: true);
    }

    /// <summary>
    /// Gives the layers the unit counts a pruned model had (<see cref="PrunedUnits.After"/> by layer name), keeping
    /// the first units: the shape to load a structurally pruned checkpoint into (the values come from the checkpoint).
    /// </summary>
    public static void Resize(Sequential model, IReadOnlyDictionary<string, int> units)
    {
        var cut = Cut(model, null, byImportance: false, units);
        var missing = units.Keys.Except(cut.Select(c => c.Layer)).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"structured pruning: layer(s) {string.Join(", ", missing)} of the record are not prunable layers of this model");
    }

    private static List<PrunedUnits> Cut(Sequential model, Func<int, int>? keepOf, bool byImportance, IReadOnlyDictionary<string, int>? counts = null)
    {
        var result = new List<PrunedUnits>();
        using var noGrad = new NoGrad();
        for (int i = 0; i < model.Count; i++)
        {
            if (model[i] is not (Linear or Conv2d)) continue;
            int norm = i + 1 < model.Count && model[i + 1] is BatchNormBase ? i + 1 : -1;
            int between = (norm >= 0 ? norm : i) + 1;
            int next = between;
            while (next < model.Count && IsPassThrough(model[next])) next++;
            if (next >= model.Count || model[next] is not (Linear or Conv2d)) continue;
            var unit = Producer(model[i]);
            string name = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int units = unit.Weight.Shape[0];
            int keep = keepOf?.Invoke(units) ?? (counts!.TryGetValue(name, out var c) ? c : units);
            if (keep < 1 || keep > units) throw new InvalidDataException($"structured pruning: layer {name} has {units} units, cannot keep {keep}");
            if (keep == units) continue;
            var bn = norm >= 0 ? (BatchNormBase)model[norm] : null;
            var importance = byImportance ? Importance(unit.Weight, bn) : new double[units];
            var kept = Enumerable.Range(0, units).OrderByDescending(u => importance[u]).ThenBy(u => u).Take(keep).Order().ToArray();
            var removed = Enumerable.Range(0, units).Except(kept).ToArray();
            var constants = byImportance ? Constants(unit, bn, removed, model, between, next) : new float[removed.Length];

            model.SetSubmodule(name, SliceOutputs(model[i], kept));
            if (bn is not null) model.SetSubmodule(norm.ToString(System.Globalization.CultureInfo.InvariantCulture), SliceNorm(bn, kept));
            model.SetSubmodule(next.ToString(System.Globalization.CultureInfo.InvariantCulture), SliceInputs(model[next], units, kept, removed, constants));
            result.Add(new PrunedUnits(name, units, keep));
        }
        return result;
    }

    private static bool IsPassThrough(Module m) => m is ReLU or GELU or SiLU or Sigmoid or Tanh or Dropout or Flatten or MaxPool2d or AvgPool2d or Identity;

    private static (Tensor Weight, Tensor? Bias) Producer(Module m) => m switch
    {
        Linear l => (l.Weight, l.Bias),
        Conv2d c => (c.Weight, c.Bias),
        _ => throw new ArgumentException($"structured pruning: cannot prune {m.GetType().Name}"),
    };

    private static double[] Importance(Tensor weight, BatchNormBase? bn)
    {
        int units = weight.Shape[0], row = weight.Numel / units;
        var w = weight.Contiguous().ToArray<float>();
        var gamma = bn?.Weight?.ToArray<float>();
        var variance = bn?.RunningVar?.ToArray<float>();
        var importance = new double[units];
        for (int u = 0; u < units; u++)
        {
            double sum = 0;
            for (int p = 0; p < row; p++) sum += Math.Abs(w[u * row + p]);
            if (gamma is not null) sum *= Math.Abs(gamma[u]);
            if (variance is not null) sum /= Math.Sqrt(variance[u] + bn!.Eps);
            importance[u] = sum;
        }
        return importance;
    }

    /// <summary>
    /// What each removed unit hands the next layer when its weights are all zero: its bias, through the batch norm and
    /// the activations between (pooling, dropout in eval and flatten leave a constant as it is); 0 for any other unit.
    /// </summary>
    private static float[] Constants((Tensor Weight, Tensor? Bias) unit, BatchNormBase? bn, int[] removed, Sequential model, int from, int to)
    {
        int row = unit.Weight.Numel / unit.Weight.Shape[0];
        var w = unit.Weight.Contiguous().ToArray<float>();
        var bias = unit.Bias?.ToArray<float>();
        var constants = new float[removed.Length];
        for (int r = 0; r < removed.Length; r++)
        {
            int u = removed[r];
            bool allZero = true;
            for (int p = 0; p < row && allZero; p++) allZero = w[u * row + p] == 0;
            if (!allZero) continue;
            double v = bias?[u] ?? 0;
            if (bn is not null)
            {
                double mean = bn.RunningMean?.ToArray<float>()[u] ?? 0, variance = bn.RunningVar?.ToArray<float>()[u] ?? 1;
                double gamma = bn.Weight?.ToArray<float>()[u] ?? 1, beta = bn.Bias?.ToArray<float>()[u] ?? 0;
                v = gamma * (v - mean) / Math.Sqrt(variance + bn.Eps) + beta;
            }
            var x = Tensor.Full(new Shape(1), v);
            for (int i = from; i < to; i++)
                if (model[i] is ReLU or GELU or SiLU or Sigmoid or Tanh) x = model[i].Forward(x);
            constants[r] = x.ToArray<float>()[0];
        }
        return constants;
    }

    private static Module<Tensor, Tensor> SliceOutputs(Module<Tensor, Tensor> m, int[] kept)
    {
        switch (m)
        {
            case Linear l:
            {
                var s = new Linear(l.InFeatures, kept.Length, l.Bias is not null);
                s.Weight.CopyFrom(Rows(l.Weight, kept));
                if (l.Bias is not null) s.Bias!.CopyFrom(Rows(l.Bias, kept));
                return s;
            }
            case Conv2d c:
            {
                if (c.Groups != 1 || c.PaddingMode is not null) throw new ArgumentException("structured pruning: grouped convolutions and padding modes are not supported");
                var s = new Conv2d(c.InChannels, kept.Length, c.KernelSize, c.Stride, c.Padding, c.Dilation, 1, c.Bias is not null);
                s.Weight.CopyFrom(Rows(c.Weight, kept));
                if (c.Bias is not null) s.Bias!.CopyFrom(Rows(c.Bias, kept));
                return s;
            }
            default: throw new ArgumentException($"structured pruning: cannot prune {m.GetType().Name}");
        }
    }

    private static BatchNormBase SliceNorm(BatchNormBase bn, int[] kept)
    {
        BatchNormBase s = bn switch
        {
            BatchNorm2d => new BatchNorm2d(kept.Length, bn.Eps, bn.Momentum, bn.Weight is not null, bn.RunningMean is not null),
            BatchNorm1d => new BatchNorm1d(kept.Length, bn.Eps, bn.Momentum, bn.Weight is not null, bn.RunningMean is not null),
            _ => throw new ArgumentException($"structured pruning: cannot slice {bn.GetType().Name}"),
        };
        if (bn.Weight is not null) s.Weight!.CopyFrom(Rows(bn.Weight, kept));
        if (bn.Bias is not null) s.Bias!.CopyFrom(Rows(bn.Bias, kept));
        if (bn.RunningMean is not null) s.RunningMean!.CopyFrom(Rows(bn.RunningMean, kept));
        if (bn.RunningVar is not null) s.RunningVar!.CopyFrom(Rows(bn.RunningVar, kept));
        if (!bn.Training) s.Eval();
        return s;
    }

    /// <summary>The next layer without the removed units' inputs; their constant contributions go into its bias.</summary>
    private static Module<Tensor, Tensor> SliceInputs(Module<Tensor, Tensor> m, int units, int[] kept, int[] removed, float[] constants)
    {
        var (weight, bias) = Producer(m);
        int outputs = weight.Shape[0], block = weight.Numel / (outputs * units);
        var w = weight.Contiguous().ToArray<float>();
        var sliced = new float[outputs * kept.Length * block];
        var shift = new float[outputs];
        for (int o = 0; o < outputs; o++)
        {
            for (int k = 0; k < kept.Length; k++)
                Array.Copy(w, (o * units + kept[k]) * block, sliced, (o * kept.Length + k) * block, block);
            for (int r = 0; r < removed.Length; r++)
                if (constants[r] != 0)
                    for (int b = 0; b < block; b++) shift[o] += constants[r] * w[(o * units + removed[r]) * block + b];
        }
        Module<Tensor, Tensor> s = m switch
        {
            Linear l => new Linear(kept.Length * block, l.OutFeatures, bias: true),
            Conv2d c => new Conv2d(kept.Length, c.OutChannels, c.KernelSize, c.Stride, c.Padding, c.Dilation, 1, bias: true),
            _ => throw new ArgumentException($"structured pruning: cannot slice {m.GetType().Name}"),
        };
        var (newWeight, newBias) = Producer(s);
        newWeight.CopyFrom(Tensor.FromArray(sliced, newWeight.Shape.Dims.ToArray()));
        var b0 = bias?.ToArray<float>() ?? new float[outputs];
        for (int o = 0; o < outputs; o++) b0[o] += shift[o];
        newBias!.CopyFrom(Tensor.FromArray(b0));
        return s;
    }

    private static Tensor Rows(Tensor t, int[] rows)
    {
        int count = t.Shape[0], row = t.Numel / count;
        var data = t.Contiguous().ToArray<float>();
        var result = new float[rows.Length * row];
        for (int r = 0; r < rows.Length; r++) Array.Copy(data, rows[r] * row, result, r * row, row);
        var dims = t.Shape.Dims.ToArray();
        dims[0] = rows.Length;
        return Tensor.FromArray(result, dims);
    }
}
