namespace Loom;

// Element-wise losses: ℓ_i = w_i · f(x_i, y_i) with f and its partials in Kernels/PointwiseLosses.cs; one fused
// kernel pass forward and one backward (PointwiseLossKernels), instead of a chain of tensor ops and temporaries.
//   reduction None → ℓ (g_i = dy_i), Sum → Σ ℓ_i (g_i = dy), Mean → Σ ℓ_i / D (g_i = dy / D), D = n or, for
//   kl_div's batchmean, the batch size.
//   dx_i = g_i w_i ∂f/∂x,  dy_i = g_i w_i ∂f/∂y.  Weights (and BCE's pos_weight) are constants: no gradient.
// Input and target must have the same shape and dtype; PyTorch broadcasts them with a warning that the result is
// "likely incorrect", which Loom makes an error.
public static partial class Functional
{
    /// <summary>Mean squared error (x − y)², as <c>torch.nn.functional.mse_loss</c>.</summary>
    /// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        Pointwise("mse_loss", new MseLossOp(), input, target, reduction);

    /// <summary>Mean absolute error |x − y|, as <c>torch.nn.functional.l1_loss</c>.</summary>
    /// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        Pointwise("l1_loss", new L1LossOp(), input, target, reduction);

    /// <summary>
    /// ½(x − y)²/β where |x − y| &lt; β, else |x − y| − ½β, as <c>torch.nn.functional.smooth_l1_loss</c>; β = 0 is
    /// the L1 loss.
    /// </summary>
    /// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        if (!(beta >= 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "smooth_l1_loss: beta must be ≥ 0");
        return Pointwise("smooth_l1_loss", new SmoothL1LossOp(beta), input, target, reduction);
    }

    /// <summary>
    /// ½(x − y)² where |x − y| &lt; δ, else δ(|x − y| − ½δ), as <c>torch.nn.functional.huber_loss</c> (δ times the
    /// smooth L1 loss with β = δ).
    /// </summary>
    /// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
    public static Tensor HuberLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        if (!(delta > 0)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "huber_loss: delta must be > 0");
        return Pointwise("huber_loss", new HuberLossOp(delta), input, target, reduction);
    }

    /// <summary>
    /// Binary cross-entropy −w(y log x + (1 − y) log(1 − x)) of probabilities x in [0, 1], as
    /// <c>torch.nn.functional.binary_cross_entropy</c>; each log is clamped at −100 so that x = 0 or 1 stays finite.
    /// </summary>
    /// <param name="weight">Optional rescaling weight, broadcastable to the input's shape (no gradient).</param>
    /// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        const string op = "binary_cross_entropy";
        CheckPair(op, input, target);
        if (input.Numel > 0)
        {
            double min, max;
            using (new NoGrad()) (min, max) = (input.Min().Item(), input.Max().Item());
            if (!(min >= 0 && max <= 1))
                throw new ArgumentException($"{op}: every input element must be a probability in [0, 1], but the input of shape {input.Shape} ranges over [{min}, {max}]; use BinaryCrossEntropyWithLogits for logits");
        }
        return Pointwise(op, new BceLossOp(), input, target, reduction, weight: weight);
    }

    /// <summary>
    /// Binary cross-entropy of logits, σ and the log fused in the stable form
    /// ℓ = (1 − y)x + (1 + (p − 1)y)(log(1 + e^−|x|) + max(−x, 0)), as
    /// <c>torch.nn.functional.binary_cross_entropy_with_logits</c>.
    /// </summary>
    /// <param name="weight">Optional rescaling weight, broadcastable to the input's shape (no gradient).</param>
    /// <param name="posWeight">Optional weight p of positive examples, broadcastable to the input (typically [C]
    /// for an [N, C] multi-label input); p &gt; 1 raises recall, p &lt; 1 precision (no gradient).</param>
    /// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null,
        Reduction reduction = Reduction.Mean) =>
        Pointwise("binary_cross_entropy_with_logits", new BceWithLogitsLossOp(), input, target, reduction, weight: weight, aux: posWeight, auxName: "pos_weight");

    /// <summary>
    /// Kullback–Leibler divergence of log-probabilities x from the target distribution y, Σ y(log y − x), as
    /// <c>torch.nn.functional.kl_div</c>. <see cref="KLDivReduction.BatchMean"/> (the sum over the batch size) is
    /// the true KL divergence per sample; <see cref="KLDivReduction.Mean"/> divides by the element count instead.
    /// </summary>
    /// <param name="input">Log-probabilities, e.g. from <c>LogSoftmax</c>.</param>
    /// <param name="target">Probabilities, or log-probabilities when <paramref name="logTarget"/> (ℓ = eʸ(y − x)).</param>
    /// <remarks>Shapes: input and target [N, *], the same; output [] or, with <see cref="KLDivReduction.None"/>, [N, *].</remarks>
    public static Tensor KLDiv(Tensor input, Tensor target, KLDivReduction reduction = KLDivReduction.Mean, bool logTarget = false)
    {
        const string op = "kl_div";
        var (r, divisor) = reduction switch
        {
            KLDivReduction.None => (Reduction.None, (double?)null),
            KLDivReduction.Sum => (Reduction.Sum, null),
            KLDivReduction.Mean => (Reduction.Mean, null),
            KLDivReduction.BatchMean => (Reduction.Mean, input.Rank == 0 ? 1 : input.Shape[0]),
            _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, $"{op}: unknown reduction"),
        };
        return logTarget
            ? Pointwise(op, new KLDivLogTargetLossOp(), input, target, r, divisor)
            : Pointwise(op, new KLDivLossOp(), input, target, r, divisor);
    }

    // ------------------------------------------------------------------ shared machinery

    private static Tensor Pointwise<TOp>(string op, TOp loss, Tensor input, Tensor target, Reduction reduction, double? divisor = null,
        Tensor? weight = null, Tensor? aux = null, string auxName = "") where TOp : struct, IPointwiseLoss
    {
        CheckPair(op, input, target);
        CheckReduction(op, reduction);
        var x = input.Detach().Contiguous();
        var y = target.Detach().Contiguous();
        var w = Operand(op, "weight", weight, input);
        var a = Operand(op, auxName, aux, input);
        int n = x.Numel;
        double denominator = reduction == Reduction.Mean ? divisor ?? n : 1;

        Tensor result;
        if (reduction == Reduction.None)
        {
            result = Tensor.Empty(input.Shape, input.DType);
            RunForward(loss, x, y, w, a, result);
        }
        else
        {
            result = Tensor.Empty(Shape.Scalar, input.DType);
            if (input.DType == DType.Float32) result.Data<float>()[0] = (float)(SumOfLosses<float, TOp>(loss, x, y, w, a) / denominator);
            else result.Data<double>()[0] = SumOfLosses<double, TOp>(loss, x, y, w, a) / denominator;
        }
        if (!GradMode.ShouldRecord(input, target)) return result;
        return new PointwiseLossBackward<TOp>(op, loss, input, target, x, y, w, a, reduction, denominator).Attach(result);
    }

    /// <summary>Σ ℓ_i through a pooled scratch buffer; float32 sums in double.</summary>
    private static double SumOfLosses<T, TOp>(TOp loss, Tensor x, Tensor y, Tensor? w, Tensor? a)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> where TOp : struct, IPointwiseLoss
    {
        int n = x.Numel;
        var scratch = ArrayPool<T>.Shared.Rent(Math.Max(n, 1));
        try
        {
            var buffer = Tensor.Wrap(scratch, scratch.Length).Narrow(0, 0, n);
            RunForward(loss, x, y, w, a, buffer);
            return double.CreateTruncating(ReductionKernels.RowSum<T>(scratch.AsSpan(0, n)));
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    private static void RunForward<TOp>(TOp loss, Tensor x, Tensor y, Tensor? w, Tensor? a, Tensor destination) where TOp : struct, IPointwiseLoss
    {
        ParallelHelper.For(x.Numel, BroadcastKernels.ParallelGrain, (start, end) =>
        {
            int count = end - start;
            if (x.DType == DType.Float32)
                PointwiseLossKernels.Forward(x.Data<float>().Slice(start, count), y.Data<float>().Slice(start, count), Part<float>(w, start, count),
                    Part<float>(a, start, count), destination.Data<float>().Slice(start, count), loss);
            else
                PointwiseLossKernels.Forward(x.Data<double>().Slice(start, count), y.Data<double>().Slice(start, count), Part<double>(w, start, count),
                    Part<double>(a, start, count), destination.Data<double>().Slice(start, count), loss);
        });
    }

    /// <summary>Elements [start, start + count) of an operand holding n values; the whole of a one-value or absent operand.</summary>
    private static ReadOnlySpan<T> Part<T>(Tensor? operand, int start, int count) where T : unmanaged =>
        operand is null ? default : operand.Numel == 1 ? operand.Data<T>() : operand.Data<T>().Slice(start, count);

    /// <summary>
    /// A weight-like operand as the kernels take it: null, one value, or contiguous in the input's shape. It must
    /// broadcast to the input's shape (not merely with it); it never receives a gradient.
    /// </summary>
    private static Tensor? Operand(string op, string name, Tensor? operand, Tensor input)
    {
        if (operand is null) return null;
        if (!operand.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: {name} must be float32 or float64, got {operand.DType.Name()} of shape {operand.Shape}");
        bool broadcasts;
        try
        {
            broadcasts = Shape.Broadcast(operand.Shape, input.Shape, op) == input.Shape;
        }
        catch (ArgumentException)
        {
            broadcasts = false;
        }
        if (!broadcasts) throw new ArgumentException($"{op}: {name} of shape {operand.Shape} cannot be broadcast to input shape {input.Shape}");
        var value = operand.Detach().To(input.DType);
        return value.Numel == 1 ? value.Contiguous() : value.BroadcastTo(input.Shape).Contiguous();
    }

    private static void CheckPair(string op, Tensor input, Tensor target)
    {
        if (!input.DType.IsFloatingPoint())
            throw new NotSupportedException($"{op}: dtype {input.DType.Name()} is not supported (float32 or float64)");
        if (target.DType != input.DType)
            throw new ArgumentException($"{op}: target dtype {target.DType.Name()} differs from input dtype {input.DType.Name()} (input shape {input.Shape}, target shape {target.Shape})");
        if (target.Shape != input.Shape)
            throw new ArgumentException($"{op}: target shape {target.Shape} does not match input shape {input.Shape}");
    }

    private static void CheckReduction(string op, Reduction reduction)
    {
        if (reduction is not (Reduction.None or Reduction.Mean or Reduction.Sum))
            throw new ArgumentOutOfRangeException(nameof(reduction), reduction, $"{op}: unknown reduction");
    }

    private sealed class PointwiseLossBackward<TOp> : BackwardNode where TOp : struct, IPointwiseLoss
    {
        private readonly TOp _loss;
        private readonly SavedTensor _x, _y;
        private readonly SavedTensor? _w, _a;
        private readonly Reduction _reduction;
        private readonly double _denominator;

        public PointwiseLossBackward(string op, TOp loss, Tensor input, Tensor target, Tensor x, Tensor y, Tensor? w, Tensor? a,
            Reduction reduction, double denominator) : base(op, input, target)
        {
            _loss = loss;
            _x = Save(x);
            _y = Save(y);
            _w = w is null ? null : Save(w);
            _a = a is null ? null : Save(a);
            (_reduction, _denominator) = (reduction, denominator);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _x.Value;
            var y = _y.Value;
            var w = _w?.Value;
            var a = _a?.Value;
            // Unreduced: one gradient per element. Reduced: every element gets dy / D.
            var g = _reduction == Reduction.None
                ? gradOutput.Contiguous()
                : Tensor.Full(Shape.Scalar, gradOutput.Item() / _denominator, gradOutput.DType);
            var dx = NeedsGrad(0) ? Tensor.Empty(x.Shape, x.DType) : null;
            var dy = NeedsGrad(1) ? Tensor.Empty(x.Shape, x.DType) : null;
            var loss = _loss;
            ParallelHelper.For(x.Numel, BroadcastKernels.ParallelGrain, (start, end) =>
            {
                int count = end - start;
                if (x.DType == DType.Float32)
                    PointwiseLossKernels.Backward(x.Data<float>().Slice(start, count), y.Data<float>().Slice(start, count), Part<float>(w, start, count),
                        Part<float>(a, start, count), Part<float>(g, start, count),
                        dx is null ? default : dx.Data<float>().Slice(start, count), dy is null ? default : dy.Data<float>().Slice(start, count), loss);
                else
                    PointwiseLossKernels.Backward(x.Data<double>().Slice(start, count), y.Data<double>().Slice(start, count), Part<double>(w, start, count),
                        Part<double>(a, start, count), Part<double>(g, start, count),
                        dx is null ? default : dx.Data<double>().Slice(start, count), dy is null ? default : dy.Data<double>().Slice(start, count), loss);
            });
            return [dx, dy];
        }
    }
}
