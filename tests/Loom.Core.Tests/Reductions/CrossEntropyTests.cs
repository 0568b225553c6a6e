using Loom.Random;

namespace Loom.Tests.Reductions;

public class CrossEntropyTests
{
    private static Tensor Targets(int seed, int classes, params int[] shape) => Tensor.Randint(0, classes, new Shape(shape), new Generator((ulong)seed));

    // The targets with every third one replaced by the ignore index.
    private static Tensor WithIgnored(Tensor targets, long ignoreIndex)
    {
        var t = targets.ToArray<long>();
        for (int i = 0; i < t.Length; i += 3) t[i] = ignoreIndex;
        return Tensor.FromArray(t, targets.Shape.ToArray());
    }

    private static double ExpectedReduced(double[] perRow, long[] targets, double[]? weight, long ignoreIndex, Reduction reduction)
    {
        if (reduction == Reduction.Sum) return perRow.Sum();
        double denominator = targets.Where(t => t != ignoreIndex).Sum(t => weight?[t] ?? 1);
        return perRow.Sum() / denominator;
    }

    [Fact]
    public void Cross_entropy_of_uniform_logits_is_log_C()
    {
        foreach (int c in new[] { 1, 2, 10, 1000 })
        {
            var logits = Tensor.Zeros(new Shape(4, c));
            var target = Tensor.FromArray(new long[] { 0, c - 1, c / 2, 0 });
            Assert.Equal(Math.Log(c), Functional.CrossEntropy(logits, target).Item(), 5);
            Assert.Equal(Math.Log(c), Functional.CrossEntropy(logits, target, labelSmoothing: 0.3).Item(), 5);
        }
    }

    [Fact]
    public void Cross_entropy_matches_the_reference_with_weights_ignore_index_and_smoothing()
    {
        foreach (int c in new[] { 1, 7, 33, 257 })
        {
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            {
                double tol = dtype == DType.Float32 ? 2e-5 : 1e-12;
                var logits = Tensor.Randn(new Shape(9, c), new Generator((ulong)c), dtype, std: 4);
                var target = WithIgnored(Targets(c, c, 9), -100);
                var weight = TestTensors.Uniform(c + 1, 0.5, 2, dtype, c);
                var w = weight.ToArray<double>();
                var t = target.ToArray<long>();
                foreach (double eps in new[] { 0.0, 0.1 })
                {
                    foreach (var input in new[] { logits, TestTensors.NonContiguous(logits) })
                    {
                        var plain = ReferenceSoftmax.CrossEntropy(logits.ToArray<double>(), 9, c, t, null, -100, eps);
                        var weighted = ReferenceSoftmax.CrossEntropy(logits.ToArray<double>(), 9, c, t, w, -100, eps);
                        TensorAssert.Close(plain, Functional.CrossEntropy(input, target, labelSmoothing: eps, reduction: Reduction.None).ToArray<double>(), tol, tol);
                        TensorAssert.Close(weighted, Functional.CrossEntropy(input, target, weight, labelSmoothing: eps, reduction: Reduction.None).ToArray<double>(), tol, tol);
                        foreach (var reduction in new[] { Reduction.Sum, Reduction.Mean })
                        {
                            Assert.Equal(ExpectedReduced(plain, t, null, -100, reduction),
                                Functional.CrossEntropy(input, target, labelSmoothing: eps, reduction: reduction).Item(), tol * 10);
                            Assert.Equal(ExpectedReduced(weighted, t, w, -100, reduction),
                                Functional.CrossEntropy(input, target, weight, labelSmoothing: eps, reduction: reduction).Item(), tol * 10);
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Cross_entropy_over_spatial_dimensions_treats_each_position_as_a_sample()
    {
        var logits = TestTensors.Randn(1, DType.Float64, 2, 5, 3, 4);
        var target = Targets(2, 5, 2, 3, 4);
        var rows = logits.Permute(0, 2, 3, 1).Contiguous();
        var expected = ReferenceSoftmax.CrossEntropy(rows.ToArray<double>(), 24, 5, target.ToArray<long>(), null, -100, 0.2);
        var loss = Functional.CrossEntropy(logits, target, labelSmoothing: 0.2, reduction: Reduction.None);
        Assert.Equal(new Shape(2, 3, 4), loss.Shape);
        TensorAssert.Close(expected, loss.ToArray<double>(), 1e-12, 1e-12);
        Assert.Equal(expected.Average(), Functional.CrossEntropy(logits, target, labelSmoothing: 0.2).Item(), 12);
    }

    [Fact]
    public void Cross_entropy_with_probability_targets_matches_the_reference()
    {
        var logits = TestTensors.Randn(3, DType.Float32, 6, 17);
        var probabilities = Tensor.Randn(new Shape(6, 17), new Generator(4)).Softmax(-1);
        var weight = TestTensors.Uniform(5, 0.5, 2, DType.Float32, 17);
        var expected = ReferenceSoftmax.SoftCrossEntropy(logits.ToArray<double>(), 6, 17, probabilities.ToArray<double>(), weight.ToArray<double>(), 0.1);
        TensorAssert.Close(expected, Functional.CrossEntropy(logits, probabilities, weight, labelSmoothing: 0.1, reduction: Reduction.None).ToArray<double>(), 1e-5, 1e-5);
        // The mean divides by the number of samples, whatever the weights (as PyTorch).
        Assert.Equal(expected.Average(), Functional.CrossEntropy(logits, probabilities, weight, labelSmoothing: 0.1).Item(), 4);
        // One-hot probabilities give the same loss as class indices.
        var target = Targets(6, 17, 6);
        var oneHot = Functional.OneHot(target, 17).To(DType.Float32);
        Assert.Equal(Functional.CrossEntropy(logits, target).Item(), Functional.CrossEntropy(logits, oneHot).Item(), 5);
    }

    [Fact]
    public void Mean_divides_by_the_weights_of_the_targets_that_are_not_ignored()
    {
        var logits = Tensor.Zeros(new Shape(3, 2), DType.Float64);
        var weight = Tensor.FromArray(new double[] { 1, 3 });
        var target = Tensor.FromArray(new long[] { 0, 1, -100 });
        // Each non-ignored loss is w_t · log 2, so the weighted mean is log 2.
        Assert.Equal(Math.Log(2), Functional.CrossEntropy(logits, target, weight).Item(), 12);
        Assert.Equal(4 * Math.Log(2), Functional.CrossEntropy(logits, target, weight, reduction: Reduction.Sum).Item(), 12);
        Assert.True(double.IsNaN(Functional.CrossEntropy(logits, Tensor.Full(new Shape(3), -100, DType.Int64)).Item()));
    }

    [Fact]
    public void Gradients_of_cross_entropy_match_finite_differences()
    {
        var logits = TestTensors.Param(7, 5, 4);
        var target = WithIgnored(Targets(8, 4, 5), 2).To(DType.Int32); // ignore index 2 is also a valid class
        var weight = TestTensors.Uniform(9, 0.5, 2, DType.Float64, 4);
        foreach (var reduction in new[] { Reduction.None, Reduction.Sum, Reduction.Mean })
        {
            TensorAssert.GradientsMatch(t => Functional.CrossEntropy(t[0], target, reduction: reduction), logits);
            TensorAssert.GradientsMatch(t => Functional.CrossEntropy(t[0], target, weight, ignoreIndex: 2, labelSmoothing: 0.15, reduction: reduction), logits);
        }
        var spatial = TestTensors.Param(10, 2, 3, 2, 2);
        TensorAssert.GradientsMatch(t => Functional.CrossEntropy(t[0], Targets(11, 3, 2, 2, 2), weight: TestTensors.Uniform(12, 0.5, 2, DType.Float64, 3), labelSmoothing: 0.2), spatial);
        var single = TestTensors.Param(13, 6);
        TensorAssert.GradientsMatch(t => Functional.CrossEntropy(t[0], Tensor.Scalar(4, DType.Int64)), single);
    }

    [Fact]
    public void Gradients_of_cross_entropy_with_probability_targets_reach_logits_and_targets()
    {
        var logits = TestTensors.Param(14, 3, 5);
        var probabilities = TestTensors.Uniform(15, 0, 1, DType.Float64, 3, 5).RequiresGrad_();
        var weight = TestTensors.Uniform(16, 0.5, 2, DType.Float64, 5);
        foreach (var reduction in new[] { Reduction.None, Reduction.Sum, Reduction.Mean })
            TensorAssert.GradientsMatch(t => Functional.CrossEntropy(t[0], t[1], weight, labelSmoothing: 0.1, reduction: reduction), logits, probabilities);
    }

    [Fact]
    public void Backward_of_unweighted_cross_entropy_is_softmax_minus_one_hot_over_N()
    {
        var logits = TestTensors.Randn(17, DType.Float32, 4, 6).RequiresGrad_();
        var target = Targets(18, 6, 4);
        Functional.CrossEntropy(logits, target).Backward();
        var softmax = logits.Detach().Softmax(-1).ToArray<double>();
        var t = target.ToArray<long>();
        for (int i = 0; i < 4; i++) softmax[i * 6 + t[i]] -= 1;
        TensorAssert.Close(softmax.Select(v => v / 4).ToArray(), logits.Grad!.ToArray<double>(), 1e-6, 1e-5);
    }

    [Fact]
    public void Nll_loss_of_log_softmax_equals_cross_entropy()
    {
        var logits = TestTensors.Param(19, 6, 5);
        var target = WithIgnored(Targets(20, 5, 6), -100);
        var weight = TestTensors.Uniform(21, 0.5, 2, DType.Float64, 5);
        foreach (var reduction in new[] { Reduction.None, Reduction.Sum, Reduction.Mean })
        {
            TensorAssert.Close(Functional.CrossEntropy(logits, target, weight, reduction: reduction),
                Functional.NllLoss(logits.LogSoftmax(1), target, weight, reduction: reduction), 1e-12, 1e-12);
            TensorAssert.GradientsMatch(t => Functional.NllLoss(t[0], target, weight, reduction: reduction), logits);
        }
        TensorAssert.GradientsMatch(t => Functional.NllLoss(t[0].LogSoftmax(1), target), logits);
    }

    [Fact]
    public void Bad_targets_and_weights_are_reported_with_the_class_count_and_shapes()
    {
        var logits = Tensor.Zeros(4, 5);
        TensorAssert.Throws<ArgumentException>(() => Functional.CrossEntropy(logits, Tensor.FromArray(new long[] { 0, 1, 5, 2 })), "cross_entropy", "target 5", "5 classes");
        TensorAssert.Throws<ArgumentException>(() => Functional.CrossEntropy(logits, Tensor.FromArray(new long[] { 0, -1, 1, 2 })), "target -1", "5 classes");
        TensorAssert.Throws<ArgumentException>(() => Functional.CrossEntropy(logits, Tensor.FromArray(new long[] { 0, 1, 2 })), "cross_entropy", "[3]", "[4, 5]");
        TensorAssert.Throws<ArgumentException>(() => Functional.CrossEntropy(logits, Tensor.Zeros(4, 4)), "cross_entropy", "[4, 4]", "[4, 5]");
        TensorAssert.Throws<ArgumentException>(() => Functional.CrossEntropy(logits, Tensor.FromArray(new long[] { 0, 1, 2, 3 }), Tensor.Ones(4)), "weight", "[4]", "[4, 5]");
        TensorAssert.Throws<ArgumentException>(() => Functional.CrossEntropy(logits, Tensor.FromArray(new long[] { 0, 1, 2, 3 }), labelSmoothing: 1.5), "label smoothing");
        TensorAssert.Throws<ArgumentException>(() => Functional.NllLoss(logits, Tensor.FromArray(new long[] { 9, 1, 2, 3 })), "nll_loss", "target 9", "5 classes");
        TensorAssert.Throws<ArgumentException>(() => Functional.NllLoss(logits, Tensor.FromArray(new long[] { 0, 1 })), "nll_loss", "[2]", "[4, 5]");
    }
}
