namespace Loom;

// CTC loss (Kernels/CtcKernels.cs): per sample, nll_n = −log Σ over alignments of the target with its input frames;
//   reduction None → nll (N), Sum → Σ nll, Mean → mean_n(nll_n / max(S_n, 1)), as PyTorch.
//   d nll_n / d lp[t, n, c] = −exp(logsumexp_{s: l′_s = c}(α_t(s) + β_t(s)) + nll_n − lp[t, n, c]) for t < T_n, else 0.
// This is the partial derivative itself. PyTorch's ctc_loss returns it plus exp(lp), which log_softmax's backward then
// cancels (exp(lp) sums to 1 over the classes): gradients reaching the logits through LogSoftmax are the same, and
// Loom's also passes GradCheck on the log-probabilities themselves. zeroInfinity makes an impossible sample's loss and
// gradient 0.
public static partial class Functional
{
    /// <summary>
    /// Connectionist temporal classification loss (like <c>torch.nn.functional.ctc_loss</c>) of log-probabilities
    /// [T, N, C] (e.g. from <c>LogSoftmax(2)</c>) against unaligned targets.
    /// </summary>
    /// <param name="targets">Int64 or Int32 class indices, none equal to <paramref name="blank"/>: padded [N, S_max]
    /// (sample n uses its first targetLengths[n]) or all targets concatenated, 1-D.</param>
    /// <param name="inputLengths">Frames per sample, each in [0, T].</param>
    /// <param name="targetLengths">Target length per sample.</param>
    /// <param name="zeroInfinity">Give samples that no alignment fits (their targets too long for their frames) loss 0
    /// and gradient 0 instead of +∞.</param>
    public static Tensor CtcLoss(Tensor logProbs, Tensor targets, int[] inputLengths, int[] targetLengths, int blank = 0, Reduction reduction = Reduction.Mean,
        bool zeroInfinity = false)
    {
        const string op = "ctc_loss";
        ArgumentNullException.ThrowIfNull(logProbs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(inputLengths);
        ArgumentNullException.ThrowIfNull(targetLengths);
        if (logProbs.Rank != 3) throw new ArgumentException($"{op}: expected log-probabilities [T, N, C], got shape {logProbs.Shape}");
        if (!logProbs.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: log-probabilities must be float32 or float64, got {logProbs.DType.Name()}");
        int steps = logProbs.Shape[0], n = logProbs.Shape[1], classes = logProbs.Shape[2];
        if (blank < 0 || blank >= classes) throw new ArgumentException($"{op}: blank {blank} is not one of the {classes} classes");
        if (inputLengths.Length != n || targetLengths.Length != n)
            throw new ArgumentException($"{op}: {inputLengths.Length} input lengths and {targetLengths.Length} target lengths for a batch of {n}");
        var sequences = TargetSequences(targets, targetLengths, n, classes, blank, op);
        for (int b = 0; b < n; b++)
            if (inputLengths[b] < 0 || inputLengths[b] > steps)
                throw new ArgumentException($"{op}: input length {inputLengths[b]} of sample {b} is outside [0, {steps}] (log-probabilities {logProbs.Shape})");

        Tensor lp;
        using (new NoGrad()) lp = logProbs.To(DType.Float64).Contiguous();
        var nll = new double[n];
        var alphas = new double[n][];
        int stride = n * classes;
        ParallelHelper.For(n, 1, (start, end) =>
        {
            for (int b = start; b < end; b++)
            {
                alphas[b] = new double[inputLengths[b] * (2 * sequences[b].Length + 1)];
                nll[b] = CtcKernels.Forward(lp.AsReadOnlySpan<double>(), b * classes, stride, inputLengths[b], sequences[b], blank, alphas[b]);
            }
        });
        var perSample = (double[])nll.Clone();
        if (zeroInfinity)
            for (int b = 0; b < n; b++) if (double.IsPositiveInfinity(perSample[b])) perSample[b] = 0;
        var losses = Tensor.FromArray(perSample).To(logProbs.DType);
        Tensor result = reduction switch
        {
            Reduction.None => losses,
            Reduction.Sum => losses.Sum(),
            Reduction.Mean => Tensor.FromArray(perSample.Select((v, b) => v / Math.Max(targetLengths[b], 1)).ToArray()).Mean().To(logProbs.DType),
            _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, $"{op}: unknown reduction"),
        };
        if (!GradMode.ShouldRecord(logProbs)) return result;
        return new CtcBackward(logProbs, lp, sequences, inputLengths, targetLengths, blank, nll, alphas, reduction, zeroInfinity).Attach(result);
    }

    /// <summary>CTC loss with the lengths as Int64 or Int32 tensors [N].</summary>
    public static Tensor CtcLoss(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths, int blank = 0, Reduction reduction = Reduction.Mean,
        bool zeroInfinity = false) =>
        CtcLoss(logProbs, targets, Lengths(inputLengths, "input lengths"), Lengths(targetLengths, "target lengths"), blank, reduction, zeroInfinity);

    private static int[] Lengths(Tensor lengths, string what)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        if (lengths.Rank != 1 || lengths.DType is not (DType.Int64 or DType.Int32))
            throw new ArgumentException($"ctc_loss: {what} must be a 1-D int64 or int32 tensor, got {lengths.DType.Name()} {lengths.Shape}");
        return [.. lengths.ToArray<long>().Select(v => checked((int)v))];
    }

    /// <summary>Each sample's target labels, checked against the classes and the blank.</summary>
    private static long[][] TargetSequences(Tensor targets, int[] targetLengths, int n, int classes, int blank, string op)
    {
        if (targets.DType is not (DType.Int64 or DType.Int32)) throw new ArgumentException($"{op}: targets must be int64 or int32, got {targets.DType.Name()}");
        var all = targets.ToArray<long>();
        var result = new long[n][];
        int next = 0;
        for (int b = 0; b < n; b++)
        {
            int length = targetLengths[b];
            if (length < 0) throw new ArgumentException($"{op}: target length {length} of sample {b} is negative");
            int start;
            if (targets.Rank == 2)
            {
                if (targets.Shape[0] != n || length > targets.Shape[1])
                    throw new ArgumentException($"{op}: padded targets {targets.Shape} do not hold {n} samples of length {length} (sample {b})");
                start = b * targets.Shape[1];
            }
            else if (targets.Rank == 1)
            {
                start = next;
                next += length;
                if (next > all.Length) throw new ArgumentException($"{op}: the target lengths add up to more than the {all.Length} concatenated targets");
            }
            else throw new ArgumentException($"{op}: expected targets [N, S] or concatenated 1-D, got shape {targets.Shape}");
            result[b] = all[start..(start + length)];
            foreach (long c in result[b])
                if (c < 0 || c >= classes || c == blank)
                    throw new ArgumentException($"{op}: target {c} of sample {b} is {(c == blank ? "the blank" : $"not one of the {classes} classes")}");
        }
        return result;
    }

    private sealed class CtcBackward : BackwardNode
    {
        private readonly SavedTensor _lp;
        private readonly long[][] _targets;
        private readonly int[] _inputLengths, _targetLengths;
        private readonly int _blank;
        private readonly double[] _nll;
        private readonly double[][] _alphas;
        private readonly Reduction _reduction;
        private readonly bool _zeroInfinity;
        private readonly DType _dtype;

        public CtcBackward(Tensor logProbs, Tensor lp, long[][] targets, int[] inputLengths, int[] targetLengths, int blank, double[] nll, double[][] alphas,
            Reduction reduction, bool zeroInfinity) : base("ctc_loss", logProbs)
        {
            _lp = Save(lp);
            (_targets, _inputLengths, _targetLengths, _blank, _nll, _alphas, _reduction, _zeroInfinity, _dtype) =
                (targets, inputLengths, targetLengths, blank, nll, alphas, reduction, zeroInfinity, logProbs.DType);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var lp = _lp.Value;
            int n = lp.Shape[1], classes = lp.Shape[2], stride = n * classes;
            var g = gradOutput.To(DType.Float64).ToArray<double>();
            var grad = new double[lp.Numel];
            ParallelHelper.For(n, 1, (start, end) =>
            {
                for (int b = start; b < end; b++)
                {
                    if (_zeroInfinity && double.IsPositiveInfinity(_nll[b])) continue;
                    double scale = _reduction switch
                    {
                        Reduction.None => g[b],
                        Reduction.Sum => g[0],
                        _ => g[0] / (n * (double)Math.Max(_targetLengths[b], 1)),
                    };
                    var beta = new double[_alphas[b].Length];
                    CtcKernels.Backward(lp.AsReadOnlySpan<double>(), b * classes, stride, _inputLengths[b], classes, _targets[b], _blank, _alphas[b], _nll[b],
                        scale, beta, grad);
                }
            });
            return [FromDoublesAs(grad, lp.Shape, _dtype)];
        }
    }

    private static Tensor FromDoublesAs(double[] values, Shape shape, DType dtype) => Tensor.Wrap(values, shape).To(dtype);
}
