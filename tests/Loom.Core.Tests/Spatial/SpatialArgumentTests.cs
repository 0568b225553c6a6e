namespace Loom.Tests.Spatial;

/// <summary>What the OpInfo goldens cannot show for the spatial ops: bad arguments fail with one clear line, and the in-place parts.</summary>
public class SpatialArgumentTests
{
    private static readonly Tensor Image = Tensor.Zeros(1, 2, 4, 5);

    [Fact]
    public void Pad_names_the_mode_and_the_limit()
    {
        TensorAssert.Throws<ArgumentException>(() => Functional.Pad(Image, [5, 0], PadMode.Reflect), "pad", "reflect", "smaller than the dimension");
        TensorAssert.Throws<ArgumentException>(() => Functional.Pad(Image, [1, 2, 3]), "even number");
        TensorAssert.Throws<ArgumentException>(() => Functional.Pad(Image, [-1, 0], PadMode.Replicate), "only constant padding may be negative");
        TensorAssert.Throws<ArgumentException>(() => Functional.Pad(Image, [-3, -3]), "crops dimension 3 of size 5 below zero");
    }

    [Fact]
    public void Interpolate_wants_one_of_size_and_scale_and_a_matching_mode()
    {
        TensorAssert.Throws<ArgumentException>(() => Functional.Interpolate(Image, [2, 2], [2.0]), "exactly one of size and scale factor");
        TensorAssert.Throws<ArgumentException>(() => Functional.Interpolate(Image, [2, 2], alignCorners: true), "align corners applies to the linear modes only");
        TensorAssert.Throws<ArgumentException>(() => Functional.Interpolate(Image, [8], mode: InterpolateMode.Linear), "[N, C, L]");
    }

    [Fact]
    public void Fold_and_unfold_check_the_geometry()
    {
        TensorAssert.Throws<ArgumentException>(() => Functional.Unfold(Image, (5, 5)), "smaller than the dilated kernel");
        TensorAssert.Throws<ArgumentException>(() => Functional.Fold(Tensor.Zeros(1, 8, 5), (4, 4), (2, 2), stride: (2, 2)), "has 5 blocks", "gives 4");
    }

    [Fact]
    public void Max_unpool_refuses_indices_outside_the_plane()
    {
        var x = Tensor.Zeros(1, 1, 2, 2);
        var bad = Tensor.FromArray(new long[] { 0, 3, 99, 5 }, 1, 1, 2, 2);
        TensorAssert.Throws<ArgumentException>(() => Functional.MaxUnpool2d(x, bad, 2), "index 99", "outside the 4×4 output plane");
    }

    [Fact]
    public void Embedding_max_norm_renormalises_only_the_rows_it_looks_up()
    {
        var weight = Tensor.FromArray(new[] { 3.0, 4.0, 0.3, 0.4, 6.0, 8.0 }, 3, 2).RequiresGrad_();
        Functional.Embedding(Tensor.FromArray(new long[] { 0, 1 }), weight, maxNorm: 1.0).Sum().Backward();
        // Row 0 (norm 5) scales to norm 1; row 1 (norm 0.5) is within the limit; row 2 is not looked up.
        TensorAssert.Close([3 / 5.0000001, 4 / 5.0000001, 0.3, 0.4, 6, 8], weight.Detach().ToArray<double>(), 1e-12, 1e-12);
        Assert.Equal([1.0, 1, 1, 1, 0, 0], weight.Grad!.ToArray<double>());
    }

    [Fact]
    public void Instance_norm_updates_running_statistics_like_batch_norm_over_instances()
    {
        var x = TestTensors.Randn(5, DType.Float64, 2, 3, 6);
        var mean = Tensor.Zeros(new Shape(3), DType.Float64);
        var variance = Tensor.Ones(new Shape(3), DType.Float64);
        using (new NoGrad()) Functional.InstanceNorm(x, mean, variance, momentum: 0.25);
        var expectedMean = x.Mean(2).Mean(0).Mul(0.25);
        var expectedVar = x.Var(2).Mean(0).Mul(0.25).Add(0.75);
        TensorAssert.Close(expectedMean, mean, 1e-14, 1e-14);
        TensorAssert.Close(expectedVar, variance, 1e-14, 1e-14);
        TensorAssert.Throws<ArgumentException>(() => Functional.InstanceNorm(Tensor.Zeros(2, 3, 1)), "more than 1 spatial element");
    }
}
