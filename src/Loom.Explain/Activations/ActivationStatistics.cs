namespace Loom.Explain;

/// <summary>Per-layer activation statistics of a model over a dataset, gathered through forward hooks.</summary>
public static class ActivationStatistics
{
    /// <summary>
    /// Runs <paramref name="batches"/> through the model (without gradients, in evaluation mode as given) and gathers,
    /// per layer and unit, mean, variance, fraction of zeros, saturation (Tanh, Sigmoid), per-class means and the
    /// top-activating samples. The hooks are removed afterwards, also when a batch fails.
    /// </summary>
    /// <param name="batches">(inputs, labels) pairs; labels Int64 [N] or null.</param>
    /// <param name="layers">Dotted layer names; every leaf module when null.</param>
    /// <param name="classes">Number of classes for <see cref="LayerStatistics.ClassMeans"/> (0: none).</param>
    /// <param name="channelsLast">Units on the last axis of outputs of rank 3 and more (sequence models [N, T, C]) rather than axis 1 ([N, C, H, W]).</param>
    /// <param name="top">Samples kept per unit in <see cref="LayerStatistics.TopExamples"/>.</param>
    public static IReadOnlyList<LayerStatistics> Collect(Module<Tensor, Tensor> model, IEnumerable<(Tensor Inputs, Tensor? Labels)> batches,
        IEnumerable<string>? layers = null, int classes = 0, bool channelsLast = false, int top = 9)
    {
        var accumulators = new Dictionary<string, UnitAccumulator>();
        long[]? labels = null;
        int seen = 0;
        var modules = model.NamedModules().ToDictionary(m => m.Name, m => m.Module);
        using var capture = new ActivationCapture(model, layers, (name, output) =>
        {
            if (output.Rank < 2 || output.Shape[0] == 0) return;
            if (!accumulators.TryGetValue(name, out var accumulator))
                accumulators[name] = accumulator = new UnitAccumulator(name, modules[name], classes, top);
            accumulator.Add(output, channelsLast, seen, labels);
        });
        using (new NoGrad())
            foreach (var (inputs, batchLabels) in batches)
            {
                using var scope = new MemoryScope();
                labels = batchLabels?.To(DType.Int64).ToArray<long>();
                model.Forward(inputs);
                seen += inputs.Shape[0];
            }
        return capture.Layers.Where(l => accumulators.ContainsKey(l.Name)).Select(l => accumulators[l.Name].Result()).ToList();
    }

    /// <summary>Sums per unit (in float64) over the batches of one layer.</summary>
    private sealed class UnitAccumulator(string name, Module module, int classes, int top)
    {
        private readonly bool _tanh = module is Tanh;
        private readonly bool _sigmoid = module is Sigmoid;
        private int _units = -1;
        private long _valuesPerUnit;
        private double[] _sum = [], _sumSquares = [], _zeros = [], _saturated = [];
        private double[][] _classSums = [];
        private long[] _classCounts = [];
        private PriorityQueue<int, double>[] _top = [];

        public void Add(Tensor output, bool channelsLast, int firstSample, long[]? labels)
        {
            int n = output.Shape[0];
            bool last = channelsLast && output.Rank >= 3;
            int units = last ? output.Shape[output.Rank - 1] : output.Shape[1];
            int positions = output.Numel / n / units;
            if (_units < 0) Start(units);
            else if (units != _units) throw new InvalidOperationException($"layer '{name}' gave {units} units in one batch and {_units} in another");
            var values = output.Detach().To(DType.Float32).Contiguous().AsReadOnlySpan<float>();
            var sampleMeans = new double[units];
            for (int i = 0; i < n; i++)
            {
                Array.Clear(sampleMeans);
                var sample = values.Slice(i * units * positions, units * positions);
                for (int k = 0; k < units * positions; k++)
                {
                    // [units, positions] channels-first, [positions, units] channels-last.
                    int u = last ? k % units : k / positions;
                    double v = sample[k];
                    _sum[u] += v;
                    _sumSquares[u] += v * v;
                    sampleMeans[u] += v;
                    if (v == 0) _zeros[u]++;
                    if ((_tanh && Math.Abs(v) > 0.99) || (_sigmoid && (v < 0.01 || v > 0.99))) _saturated[u]++;
                }
                int index = firstSample + i;
                for (int u = 0; u < units; u++)
                {
                    double mean = sampleMeans[u] / positions;
                    var queue = _top[u];
                    if (queue.Count < top) queue.Enqueue(index, mean);
                    else if (top > 0 && queue.TryPeek(out _, out double smallest) && mean > smallest) queue.DequeueEnqueue(index, mean);
                    if (labels is not null && classes > 0 && labels[i] >= 0 && labels[i] < classes)
                        _classSums[labels[i]][u] += mean;
                }
                if (labels is not null && classes > 0 && labels[i] >= 0 && labels[i] < classes) _classCounts[labels[i]]++;
            }
            _valuesPerUnit += (long)n * positions;
        }

        private void Start(int units)
        {
            _units = units;
            _sum = new double[units];
            _sumSquares = new double[units];
            _zeros = new double[units];
            _saturated = new double[units];
            _classSums = Enumerable.Range(0, classes).Select(_ => new double[units]).ToArray();
            _classCounts = new long[classes];
            _top = Enumerable.Range(0, units).Select(_ => new PriorityQueue<int, double>()).ToArray();
        }

        public LayerStatistics Result()
        {
            double count = _valuesPerUnit;
            var mean = _sum.Select(s => s / count).ToArray();
            // E[v²] − E[v]², clamped: rounding can make a constant unit's variance a tiny negative number.
            var variance = _sumSquares.Select((s, u) => Math.Max(0, s / count - mean[u] * mean[u])).ToArray();
            var zeros = _zeros.Select(z => z / count).ToArray();
            double[]? saturation = _tanh || _sigmoid ? _saturated.Select(s => s / count).ToArray() : null;
            var classMeans = _classSums.Select((sums, c) => sums.Select(s => _classCounts[c] == 0 ? double.NaN : s / _classCounts[c]).ToArray()).ToArray();
            var topExamples = _top.Select(q =>
            {
                var items = new List<(int Index, double Value)>();
                while (q.TryDequeue(out int index, out double value)) items.Add((index, value));
                return items.OrderByDescending(e => e.Value).ThenBy(e => e.Index).Select(e => e.Index).ToArray();
            }).ToArray();
            return new LayerStatistics(name, module.GetType().Name, mean, variance, zeros, saturation, classMeans, topExamples);
        }
    }
}
