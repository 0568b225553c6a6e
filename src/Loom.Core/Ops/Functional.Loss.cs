namespace Loom;

// Classification losses. The input holds one score per class along axis 1: [N, C] or [N, C, d1, …] (a 1-D [C]
// input is a single sample). Each sample i (and spatial position) has lse_i = log Σ_c exp(x_ic).
//   cross_entropy, class targets t_i:  ℓ_i = (1 − ε) w_t (lse_i − x_it) + (ε/C) Σ_c w_c (lse_i − x_ic), 0 where t_i = ignoreIndex
//       dx_ic = g_i [softmax_ic ((1 − ε) w_t + ε W/C) − (1 − ε) w_t [c = t_i] − (ε/C) w_c],   W = Σ_c w_c
//   cross_entropy, probability targets q_i (same shape as the input):  q' = (1 − ε) q + ε/C,  ℓ_i = Σ_c w_c q'_ic (lse_i − x_ic)
//       dx_ic = g_i [softmax_ic Σ_k w_k q'_ik − w_c q'_ic],   dq_ic = g_i (1 − ε) w_c (lse_i − x_ic)
//   nll_loss:  ℓ_i = −w_t logp_it,   dlogp_ic = −g_i w_t [c = t_i]
// Reduction: None returns ℓ (g = dy), Sum returns Σ ℓ (g = dy), Mean returns Σ ℓ / D (g = dy / D) where D is
// Σ w_t over the non-ignored samples for class targets (the count when unweighted; NaN when all are ignored, as
// PyTorch) and the number of samples for probability targets. Class weights receive no gradient.
public static partial class Functional
{
    /// <summary>
    /// Cross-entropy between logits and targets, as <c>torch.nn.functional.cross_entropy</c>: log-softmax and the
    /// negative log-likelihood fused in one kernel, with backward softmax − (smoothed) one-hot.
    /// </summary>
    /// <param name="input">Logits [N, C] or [N, C, d1, …], or [C] for one sample.</param>
    /// <param name="target">Class indices (Int64 or Int32) of shape [N] or [N, d1, …] (a scalar for a [C] input), or
    /// class probabilities of the input's shape and dtype.</param>
    /// <param name="weight">Optional per-class weights [C].</param>
    /// <param name="ignoreIndex">A class-index target equal to this contributes neither loss nor gradient.</param>
    /// <param name="labelSmoothing">ε in [0, 1]: the target becomes (1 − ε) target + ε / C.</param>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, long ignoreIndex = -100,
        double labelSmoothing = 0, Reduction reduction = Reduction.Mean)
    {
        const string op = "cross_entropy";
        var layout = ClassAxisLayout.Of(input, op);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentException($"{op}: label smoothing must be in [0, 1], got {labelSmoothing}");
        var w = ClassWeights(weight, input, layout.Classes, op);
        if (target.DType.IsFloatingPoint()) return SoftCrossEntropy(input, target, w, labelSmoothing, reduction, layout);

        var t = ClassTargets(target, input, layout, ignoreIndex, op);
        var x = layout.Arrange(input);
        var loss = Tensor.Empty(layout.SampleShape, input.DType);
        var lse = Tensor.Empty(new Shape(layout.Rows), input.DType);
        int classes = layout.Classes;
        ParallelHelper.For(layout.Rows, Tensor.RowGrain(classes), (start, end) =>
        {
            int n = end - start;
            if (input.DType == DType.Float32)
                SoftmaxKernels.CrossEntropy(x.Data<float>().Slice(start * classes, n * classes), n, classes, t.Data<long>().Slice(start, n),
                    w is null ? default : w.Data<float>(), ignoreIndex, (float)labelSmoothing, loss.Data<float>().Slice(start, n), lse.Data<float>().Slice(start, n));
            else
                SoftmaxKernels.CrossEntropy(x.Data<double>().Slice(start * classes, n * classes), n, classes, t.Data<long>().Slice(start, n),
                    w is null ? default : w.Data<double>(), ignoreIndex, labelSmoothing, loss.Data<double>().Slice(start, n), lse.Data<double>().Slice(start, n));
        });
        double denominator = reduction == Reduction.Mean ? TargetWeightSum(t, w, ignoreIndex) : 1;
        var result = ReduceLoss(loss, reduction, denominator);
        if (!GradMode.ShouldRecord(input)) return result;
        return new CrossEntropyBackward(input, x, t, w, lse, ignoreIndex, labelSmoothing, reduction, denominator, layout).Attach(result);
    }

    /// <summary>
    /// Negative log-likelihood of log-probabilities (e.g. from <see cref="Tensor.LogSoftmax"/>), as
    /// <c>torch.nn.functional.nll_loss</c>: −w_t · input[t] per sample.
    /// </summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        const string op = "nll_loss";
        var layout = ClassAxisLayout.Of(input, op);
        var w = ClassWeights(weight, input, layout.Classes, op);
        if (target.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: target must hold class indices (int64 or int32), got {target.DType.Name()} of shape {target.Shape}");
        var t = ClassTargets(target, input, layout, ignoreIndex, op);
        var x = layout.Arrange(input);
        var loss = Tensor.Empty(layout.SampleShape, input.DType);
        if (input.DType == DType.Float32)
            SoftmaxKernels.Nll(x.Data<float>(), layout.Rows, layout.Classes, t.Data<long>(), w is null ? default : w.Data<float>(), ignoreIndex, loss.Data<float>());
        else
            SoftmaxKernels.Nll(x.Data<double>(), layout.Rows, layout.Classes, t.Data<long>(), w is null ? default : w.Data<double>(), ignoreIndex, loss.Data<double>());
        double denominator = reduction == Reduction.Mean ? TargetWeightSum(t, w, ignoreIndex) : 1;
        var result = ReduceLoss(loss, reduction, denominator);
        if (!GradMode.ShouldRecord(input)) return result;
        return new NllLossBackward(input, t, w, ignoreIndex, reduction, denominator, layout).Attach(result);
    }

    private static Tensor SoftCrossEntropy(Tensor input, Tensor target, Tensor? w, double smoothing, Reduction reduction, ClassAxisLayout layout)
    {
        const string op = "cross_entropy";
        if (target.Shape != input.Shape)
            throw new ArgumentException($"{op}: probability target of shape {target.Shape} does not match input shape {input.Shape}");
        if (target.DType != input.DType)
            throw new ArgumentException($"{op}: probability target has dtype {target.DType.Name()}, the input {input.DType.Name()}");
        var x = layout.Arrange(input);
        var q = layout.Arrange(target);
        var loss = Tensor.Empty(layout.SampleShape, input.DType);
        var lse = Tensor.Empty(new Shape(layout.Rows), input.DType);
        if (input.DType == DType.Float32)
            SoftmaxKernels.SoftCrossEntropy(x.Data<float>(), layout.Rows, layout.Classes, q.Data<float>(), w is null ? default : w.Data<float>(),
                (float)smoothing, loss.Data<float>(), lse.Data<float>());
        else
            SoftmaxKernels.SoftCrossEntropy(x.Data<double>(), layout.Rows, layout.Classes, q.Data<double>(), w is null ? default : w.Data<double>(),
                smoothing, loss.Data<double>(), lse.Data<double>());
        // PyTorch divides by the number of samples here, whatever the weights; with no samples that is 0/0 = NaN.
        var result = ReduceLoss(loss, reduction, layout.Rows);
        if (!GradMode.ShouldRecord(input, target)) return result;
        return new SoftCrossEntropyBackward(input, target, x, q, w, lse, smoothing, reduction, layout).Attach(result);
    }

    private static Tensor ClassTargets(Tensor target, Tensor input, ClassAxisLayout layout, long ignoreIndex, string op)
    {
        if (target.DType is not (DType.Int64 or DType.Int32))
            throw new ArgumentException($"{op}: target must hold class indices (int64 or int32) or probabilities (float), got {target.DType.Name()}");
        if (target.Shape != layout.SampleShape)
            throw new ArgumentException($"{op}: target shape {target.Shape} does not match input shape {input.Shape} (expected target shape {layout.SampleShape})");
        var t = target.To(DType.Int64).Contiguous();
        var values = t.Data<long>();
        for (int i = 0; i < values.Length; i++)
        {
            long v = values[i];
            if (v != ignoreIndex && (ulong)v >= (ulong)layout.Classes)
                throw new ArgumentException($"{op}: target {v} (at sample {i}) is out of range for {layout.Classes} classes; valid targets are 0 to {layout.Classes - 1} or the ignore index {ignoreIndex}");
        }
        return t;
    }

    private static Tensor? ClassWeights(Tensor? weight, Tensor input, int classes, string op)
    {
        if (weight is null) return null;
        if (weight.Rank != 1 || weight.Shape[0] != classes)
            throw new ArgumentException($"{op}: weight of shape {weight.Shape} does not match the {classes} classes of input shape {input.Shape} (expected [{classes}])");
        if (!weight.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: weight must be float32 or float64, got {weight.DType.Name()}");
        return weight.Detach().To(input.DType).Contiguous();
    }

    // Σ w_t over the samples whose target is not ignored (their count when unweighted).
    private static double TargetWeightSum(Tensor target, Tensor? weight, long ignoreIndex)
    {
        var t = target.Data<long>();
        double sum = 0;
        for (int i = 0; i < t.Length; i++)
        {
            if (t[i] == ignoreIndex) continue;
            sum += weight is null ? 1 : weight.DType == DType.Float32 ? weight.Data<float>()[(int)t[i]] : weight.Data<double>()[(int)t[i]];
        }
        return sum;
    }

    private static Tensor ReduceLoss(Tensor loss, Reduction reduction, double denominator)
    {
        if (reduction == Reduction.None) return loss;
        if (reduction is not (Reduction.Sum or Reduction.Mean)) throw new ArgumentException($"unknown reduction {reduction}");
        var result = Tensor.Empty(Shape.Scalar, loss.DType);
        if (loss.DType == DType.Float32)
        {
            double sum = ReductionKernels.RowSum<float>(loss.Data<float>());
            result.Data<float>()[0] = (float)(reduction == Reduction.Sum ? sum : sum / denominator);
        }
        else
        {
            double sum = ReductionKernels.RowSum<double>(loss.Data<double>());
            result.Data<double>()[0] = reduction == Reduction.Sum ? sum : sum / denominator;
        }
        return result;
    }

    /// <summary>g_i, the gradient of each sample's loss, from the gradient of the (reduced) result.</summary>
    private static Tensor SampleGradients(Tensor gradOutput, Reduction reduction, double denominator, int rows)
    {
        if (reduction == Reduction.None) return gradOutput.Contiguous();
        double g = gradOutput.Item() / (reduction == Reduction.Mean ? denominator : 1);
        return Tensor.Full(new Shape(rows), g, gradOutput.DType);
    }

    /// <summary>
    /// The view of a class-scored input as [rows, classes]: the class axis (1) moves last so that each sample's
    /// scores are one contiguous row. [N, C] inputs are used in place; [N, C, d1, …] ones are copied once.
    /// </summary>
    private sealed class ClassAxisLayout
    {
        private int[]? _toLast, _fromLast;
        private Shape _arrangedShape, _inputShape;

        public int Rows { get; private init; }
        public int Classes { get; private init; }

        /// <summary>The input's shape without the class axis: the shape of the targets and of unreduced losses.</summary>
        public Shape SampleShape { get; private init; }

        public static ClassAxisLayout Of(Tensor input, string op)
        {
            if (input.Rank == 0) throw new ArgumentException($"{op}: input must have a class dimension, got a scalar (shape {input.Shape})");
            if (!input.DType.IsFloatingPoint()) throw new NotSupportedException($"{op}: dtype {input.DType.Name()} is not supported (float32 or float64)");
            int classes = input.Shape[input.Rank == 1 ? 0 : 1];
            if (classes == 0) throw new ArgumentException($"{op}: input of shape {input.Shape} has no classes");
            if (input.Rank == 1)
                return new ClassAxisLayout { Rows = 1, Classes = classes, SampleShape = Shape.Scalar, _inputShape = input.Shape, _arrangedShape = input.Shape };
            var sample = new List<int> { input.Shape[0] };
            for (int i = 2; i < input.Rank; i++) sample.Add(input.Shape[i]);
            var layout = new ClassAxisLayout { Classes = classes, SampleShape = new Shape(sample.ToArray()), Rows = new Shape(sample.ToArray()).Numel, _inputShape = input.Shape };
            if (input.Rank > 2)
            {
                int r = input.Rank;
                layout._toLast = [0, .. Enumerable.Range(2, r - 2), 1];
                layout._fromLast = [0, r - 1, .. Enumerable.Range(1, r - 2)];
            }
            layout._arrangedShape = new Shape([.. sample, classes]);
            return layout;
        }

        /// <summary><paramref name="t"/>'s data as contiguous [rows, classes], without autograd.</summary>
        public Tensor Arrange(Tensor t)
        {
            var d = t.Detach();
            if (_toLast is not null) d = d.Permute(_toLast);
            return d.Contiguous();
        }

        /// <summary>The inverse of <see cref="Arrange"/>: a [rows, classes] gradient back in the input's layout.</summary>
        public Tensor Restore(Tensor rows) =>
            _fromLast is null ? rows.Reshape(_inputShape.ToArray()) : rows.Reshape(_arrangedShape.ToArray()).Permute(_fromLast).Contiguous();
    }

    private sealed class CrossEntropyBackward : BackwardNode
    {
        private readonly SavedTensor _logits, _target, _lse;
        private readonly Tensor? _weight;
        private readonly long _ignoreIndex;
        private readonly double _smoothing, _denominator;
        private readonly Reduction _reduction;
        private readonly ClassAxisLayout _layout;

        public CrossEntropyBackward(Tensor input, Tensor logits, Tensor target, Tensor? weight, Tensor lse, long ignoreIndex, double smoothing,
            Reduction reduction, double denominator, ClassAxisLayout layout) : base("cross_entropy", input)
        {
            _logits = Save(logits);
            _target = Save(target);
            _lse = Save(lse);
            _weight = weight;
            (_ignoreIndex, _smoothing, _reduction, _denominator, _layout) = (ignoreIndex, smoothing, reduction, denominator, layout);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _logits.Value;
            var t = _target.Value;
            var lse = _lse.Value;
            int rows = _layout.Rows, classes = _layout.Classes;
            var g = SampleGradients(gradOutput, _reduction, _denominator, rows);
            var dx = Tensor.Empty(new Shape(rows, classes), x.DType);
            ParallelHelper.For(rows, Tensor.RowGrain(classes), (start, end) =>
            {
                int n = end - start;
                if (x.DType == DType.Float32)
                    SoftmaxKernels.CrossEntropyBackward(x.Data<float>().Slice(start * classes, n * classes), n, classes, t.Data<long>().Slice(start, n),
                        _weight is null ? default : _weight.Data<float>(), _ignoreIndex, (float)_smoothing, lse.Data<float>().Slice(start, n),
                        g.Data<float>().Slice(start, n), dx.Data<float>().Slice(start * classes, n * classes));
                else
                    SoftmaxKernels.CrossEntropyBackward(x.Data<double>().Slice(start * classes, n * classes), n, classes, t.Data<long>().Slice(start, n),
                        _weight is null ? default : _weight.Data<double>(), _ignoreIndex, _smoothing, lse.Data<double>().Slice(start, n),
                        g.Data<double>().Slice(start, n), dx.Data<double>().Slice(start * classes, n * classes));
            });
            return [_layout.Restore(dx)];
        }
    }

    private sealed class SoftCrossEntropyBackward : BackwardNode
    {
        private readonly SavedTensor _logits, _target, _lse;
        private readonly Tensor? _weight;
        private readonly double _smoothing;
        private readonly Reduction _reduction;
        private readonly ClassAxisLayout _layout;

        public SoftCrossEntropyBackward(Tensor input, Tensor target, Tensor logits, Tensor arrangedTarget, Tensor? weight, Tensor lse, double smoothing,
            Reduction reduction, ClassAxisLayout layout) : base("cross_entropy", input, target)
        {
            _logits = Save(logits);
            _target = Save(arrangedTarget);
            _lse = Save(lse);
            _weight = weight;
            (_smoothing, _reduction, _layout) = (smoothing, reduction, layout);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _logits.Value;
            int rows = _layout.Rows, classes = _layout.Classes;
            var g = SampleGradients(gradOutput, _reduction, rows, rows);
            var dx = NeedsGrad(0) ? Tensor.Empty(new Shape(rows, classes), x.DType) : null;
            var dq = NeedsGrad(1) ? Tensor.Empty(new Shape(rows, classes), x.DType) : null;
            if (x.DType == DType.Float32) Run<float>(x, g, dx, dq);
            else Run<double>(x, g, dx, dq);
            return [dx is null ? null : _layout.Restore(dx), dq is null ? null : _layout.Restore(dq)];
        }

        private void Run<T>(Tensor x, Tensor g, Tensor? dx, Tensor? dq) where T : unmanaged, IFloatingPointIeee754<T>
        {
            SoftmaxKernels.SoftCrossEntropyBackward<T>(x.Data<T>(), _layout.Rows, _layout.Classes, _target.Value.Data<T>(),
                _weight is null ? default : _weight.Data<T>(), T.CreateTruncating(_smoothing), _lse.Value.Data<T>(), g.Data<T>(),
                dx is null ? default : dx.Data<T>(), dq is null ? default : dq.Data<T>());
        }
    }

    private sealed class NllLossBackward : BackwardNode
    {
        private readonly SavedTensor _target;
        private readonly Tensor? _weight;
        private readonly long _ignoreIndex;
        private readonly double _denominator;
        private readonly Reduction _reduction;
        private readonly ClassAxisLayout _layout;

        public NllLossBackward(Tensor input, Tensor target, Tensor? weight, long ignoreIndex, Reduction reduction, double denominator, ClassAxisLayout layout)
            : base("nll_loss", input)
        {
            _target = Save(target);
            _weight = weight;
            (_ignoreIndex, _reduction, _denominator, _layout) = (ignoreIndex, reduction, denominator, layout);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            int rows = _layout.Rows, classes = _layout.Classes;
            var g = SampleGradients(gradOutput, _reduction, _denominator, rows);
            var dx = Tensor.Empty(new Shape(rows, classes), gradOutput.DType);
            var t = _target.Value.Data<long>();
            if (dx.DType == DType.Float32)
                SoftmaxKernels.NllBackward(rows, classes, t, _weight is null ? default : _weight.Data<float>(), _ignoreIndex, g.Data<float>(), dx.Data<float>());
            else
                SoftmaxKernels.NllBackward(rows, classes, t, _weight is null ? default : _weight.Data<double>(), _ignoreIndex, g.Data<double>(), dx.Data<double>());
            return [_layout.Restore(dx)];
        }
    }
}
