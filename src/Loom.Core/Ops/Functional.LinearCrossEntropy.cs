namespace Loom;

// A language model's head and loss in one op: ℓ = cross_entropy(input · Wᵀ, target), classes along the last axis.
// The logits are this op's own (never returned), so the forward overwrites them with their gradient,
// g (softmax − one-hot) with g = 1 / D for the mean (D the non-ignored targets) and 1 for the sum, while each row is
// in cache from the loss's own passes; backward hands that buffer to the linear layer's two products (scaled by dℓ
// when dℓ ≠ 1). Unfused, the backward re-read the logits, recomputed their exponentials and wrote a second buffer
// of the same size (GPT-2, B4 T64: 51 MB).
public static partial class Functional
{
    /// <summary>
    /// Cross-entropy of the logits <paramref name="input"/> · <paramref name="weight"/>ᵀ against class indices, as
    /// <c>cross_entropy(linear(input, weight).flatten(0, -2), target.flatten())</c>: the output layer and loss of a
    /// language model. The logits are not kept: their gradient is written over them as the loss is computed.
    /// </summary>
    /// <param name="input">Features [..., in].</param>
    /// <param name="weight">Class weights [classes, in] (a tied embedding, or an output layer's weight).</param>
    /// <param name="target">Class indices (Int64 or Int32) of the input's leading shape [...].</param>
    /// <param name="ignoreIndex">A target equal to this contributes neither loss nor gradient.</param>
    /// <param name="reduction">Mean or Sum (None computes the per-sample losses the unfused way).</param>
    public static Tensor LinearCrossEntropy(Tensor input, Tensor weight, Tensor target, long ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        const string op = "linear_cross_entropy";
        if (input.Rank == 0) throw new ArgumentException($"{op}: input must be [..., in], got a scalar");
        var leading = Shape.Wrap(input.Shape.Dims[..^1].ToArray());
        if (target.Shape != leading)
            throw new ArgumentException($"{op}: target shape {target.Shape} does not match input shape {input.Shape} (expected target shape {leading})");
        var logits = Linear(input, weight);
        int classes = weight.Shape[0];
        var rows = logits.Reshape(-1, classes);
        var flatTarget = target.Reshape(-1);
        if (reduction == Reduction.None || !GradMode.ShouldRecord(rows))
            return CrossEntropy(rows, flatTarget, ignoreIndex: ignoreIndex, reduction: reduction);
        if (reduction is not (Reduction.Sum or Reduction.Mean)) throw new ArgumentException($"{op}: unknown reduction {reduction}");

        var layout = ClassAxisLayout.Of(rows, op);
        var t = ClassTargets(flatTarget, rows, layout, ignoreIndex, op);
        double denominator = reduction == Reduction.Mean ? TargetWeightSum(t, null, ignoreIndex) : 1;
        var loss = Tensor.Empty(layout.SampleShape, input.DType);
        // The row gradient the unfused op derives from dℓ = 1 (SampleGradients).
        double rowGrad = 1 / denominator;
        // rows is a view of the linear layer's fresh output: its storage is this op's alone.
        var gradient = new Tensor(rows.Storage, rows.Shape);
        int n = layout.Rows;
        ParallelHelper.For(n, Tensor.RowGrain(classes), (start, end) =>
        {
            int count = end - start;
            if (input.DType == DType.Float32)
                SoftmaxKernels.CrossEntropyGradientInPlace(gradient.Data<float>().Slice(start * classes, count * classes), count, classes,
                    t.Data<long>().Slice(start, count), ignoreIndex, (float)rowGrad, loss.Data<float>().Slice(start, count));
            else
                SoftmaxKernels.CrossEntropyGradientInPlace(gradient.Data<double>().Slice(start * classes, count * classes), count, classes,
                    t.Data<long>().Slice(start, count), ignoreIndex, rowGrad, loss.Data<double>().Slice(start, count));
        });
        return new PrecomputedGradientBackward(rows, gradient).Attach(ReduceLoss(loss, reduction, denominator));
    }

    /// <summary>The cross-entropy node of <see cref="LinearCrossEntropy"/>: its input's gradient was computed in the forward pass for dℓ = 1.</summary>
    private sealed class PrecomputedGradientBackward(Tensor input, Tensor gradient) : BackwardNode("cross_entropy", input)
    {
        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            double scale = gradOutput.Item();
            return [scale == 1 ? gradient : gradient.Mul(scale)];
        }
    }
}
