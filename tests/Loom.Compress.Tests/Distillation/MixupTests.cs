namespace Loom.Compress.Tests.Distillation;

public class MixupTests
{
    [Fact]
    public void Batch_is_mixed_with_a_permutation_of_itself_and_the_targets_mix_alike()
    {
        var g = new Generator(1);
        var batch = Tensor.Randn(new Shape(5, 3), g).To(DType.Float64);
        var mixup = new Mixup(new Generator(7));
        var mixed = mixup.Mix(batch).ToArray<double>();
        double lambda = mixup.Lambda;
        long[] partners = mixup.Partners!.ToArray<long>();
        Assert.InRange(lambda, 0, 1);
        Assert.Equal([0, 1, 2, 3, 4], partners.Order());
        Assert.NotEqual([0, 1, 2, 3, 4], partners); // seed 7 pairs some samples with others
        var x = batch.ToArray<double>();
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(lambda * x[i * 3 + j] + (1 - lambda) * x[partners[i] * 3 + j], mixed[i * 3 + j], 12);
        // The same seed mixes the same way (runs are reproducible).
        Assert.Equal(mixed, new Mixup(new Generator(7)).Mix(batch).ToArray<double>());

        // The labels: λ·CE(y) + (1 − λ)·CE(y[π]), computed by hand from per-sample losses.
        var logits = Tensor.Randn(new Shape(5, 4), g).To(DType.Float64);
        var target = Tensor.FromArray(new long[] { 0, 3, 1, 2, 3 });
        double[] perSample = Enumerable.Range(0, 5).Select(i => Functional.CrossEntropy(logits.Narrow(0, i, 1), target.Narrow(0, i, 1)).ToArray<double>()[0]).ToArray();
        double CrossEntropyAgainst(int i, long label) => Functional.CrossEntropy(logits.Narrow(0, i, 1), Tensor.FromArray(new[] { label })).ToArray<double>()[0];
        long[] y = target.ToArray<long>();
        double expected = Enumerable.Range(0, 5).Average(i => lambda * perSample[i] + (1 - lambda) * CrossEntropyAgainst(i, y[partners[i]]));
        Assert.Equal(expected, mixup.Loss(t => Functional.CrossEntropy(logits, t), target).ToArray<double>()[0], 10);

        // Cleared (evaluation batches): the plain loss, nothing remembered.
        mixup.Clear();
        Assert.Null(mixup.Partners);
        Assert.Equal(Functional.CrossEntropy(logits, target).ToArray<double>()[0], mixup.Loss(t => Functional.CrossEntropy(logits, t), target).ToArray<double>()[0], 12);
    }

    [Fact]
    public void Mixed_distillation_loss_gradient_matches_finite_differences_and_a_wrong_target_is_refused()
    {
        var g = new Generator(2);
        var student = Tensor.Randn(new Shape(4, 3), g).To(DType.Float64).RequiresGrad_();
        var teacher = Tensor.Randn(new Shape(4, 3), g).To(DType.Float64);
        var target = Tensor.FromArray(new long[] { 2, 0, 1, 1 });
        var mixup = new Mixup(new Generator(3));
        mixup.Mix(Tensor.Zeros(4, 2));
        TensorAssert.GradientsMatch(x => mixup.Loss(t => Compress.Distillation.Loss(x[0], teacher, t, 2, 0.4), target), student);
        TensorAssert.Throws<ArgumentException>(() => mixup.Loss(t => t.To(DType.Float64).Sum(), Tensor.FromArray(new long[] { 1, 2 })), "does not match the mixed batch of 4");
    }
}
