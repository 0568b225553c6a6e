namespace Loom.Tests.Losses;

/// <summary>What the OpInfo goldens cannot show for the losses added for issue 8: errors, and CTC's gradient on log-probabilities.</summary>
public class NewLossTests
{
    [Fact]
    public void Ctc_gradient_is_the_partial_derivative_with_respect_to_the_log_probabilities()
    {
        // PyTorch returns the gradient plus exp(log_probs) (cancelled by log_softmax); Loom's is the derivative itself,
        // so GradCheck holds on log-probabilities that are not normalised.
        var lp = TestTensors.Param(7, 6, 2, 4);
        var targets = Tensor.FromArray(new long[] { 1, 2, 2, 3, 0, 0 }, 2, 3);
        TensorAssert.GradientsMatch(x => Functional.CtcLoss(x[0], targets, [6, 5], [3, 1], reduction: Reduction.Sum), [lp], 1e-6, 1e-6, 1e-5);
        TensorAssert.GradientsMatch(x => Functional.CtcLoss(x[0], targets, [6, 5], [3, 1], reduction: Reduction.Mean), [lp], 1e-6, 1e-6, 1e-5);
    }

    [Fact]
    public void Ctc_impossible_alignments_are_infinite_unless_zeroed()
    {
        var lp = Tensor.Zeros(new Shape(3, 1, 3), DType.Float64).LogSoftmax(2);
        var targets = Tensor.FromArray(new long[] { 1, 1, 1 }, 1, 3); // needs 5 frames (blanks between repeats), has 3
        Assert.Equal(double.PositiveInfinity, Functional.CtcLoss(lp, targets, [3], [3], reduction: Reduction.Sum).Item());
        Assert.Equal(0, Functional.CtcLoss(lp, targets, [3], [3], reduction: Reduction.Sum, zeroInfinity: true).Item());
    }

    [Fact]
    public void Ctc_errors_name_the_sample_and_the_limit()
    {
        var lp = Tensor.Zeros(new Shape(4, 2, 3));
        var targets = Tensor.FromArray(new long[] { 1, 2, 1, 0 }, 2, 2);
        TensorAssert.Throws<ArgumentException>(() => Functional.CtcLoss(lp, targets, [4, 5], [2, 1]), "input length 5 of sample 1", "[0, 4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.CtcLoss(lp, targets, [4, 4], [2, 2]), "target 0 of sample 1 is the blank");
        TensorAssert.Throws<ArgumentException>(() => Functional.CtcLoss(lp, targets, [4], [2]), "1 input lengths and 1 target lengths for a batch of 2");
    }

    [Fact]
    public void Argument_errors_of_the_other_losses()
    {
        var x = Tensor.Zeros(3, 4);
        TensorAssert.Throws<ArgumentException>(() => Functional.GaussianNllLoss(x, x, Tensor.Zeros(3, 2)), "variance shape [3, 2]");
        TensorAssert.Throws<ArgumentException>(() => Functional.GaussianNllLoss(x, x, Tensor.Full(new Shape(3, 4), -1)), "negative entry");
        TensorAssert.Throws<ArgumentException>(() => Functional.MultiMarginLoss(x, Tensor.FromArray(new long[] { 0, 4, 1 })), "target index 4", "4 classes");
        TensorAssert.Throws<ArgumentException>(() => Functional.MultiMarginLoss(x, Tensor.FromArray(new long[] { 0, 1, 1 }), p: 3), "p must be 1 or 2");
    }
}
