using Loom.Kernels;
using Loom.Tests.Kernels;

namespace Loom.Tests.Reductions;

/// <summary>
/// <see cref="Functional.LinearCrossEntropy"/> against its unfused composition, cross_entropy(linear(x, W)): the loss
/// is the same bits (the same row passes), the gradients come from softmax as exp(x − max) / Σ instead of exp(x − lse),
/// so they are held to the float64 composition within float32 rounding.
/// </summary>
[Collection(GlobalSettings.Name)]
public class LinearCrossEntropyTests
{
    private const long Ignore = -100;

    // Targets for [2, 9] positions over `classes`, every fourth one ignored.
    private static Tensor Targets(int classes)
    {
        var t = Tensor.Randint(0, classes, new Shape(2, 9), new Loom.Random.Generator(7)).ToArray<long>();
        for (int i = 0; i < t.Length; i += 4) t[i] = Ignore;
        return Tensor.FromArray(t, 2, 9);
    }

    private static (double Loss, double[] Dx, double[] Dw) Run(bool fused, DType dtype, int classes, Reduction reduction, double lossScale,
        long ignoreIndex = Ignore)
    {
        var x = TestTensors.Randn(1, DType.Float64, 2, 9, 24).Mul(2).To(dtype).RequiresGrad_();
        var w = TestTensors.Randn(2, DType.Float64, classes, 24).To(dtype).RequiresGrad_();
        var target = Targets(classes);
        var loss = fused
            ? Functional.LinearCrossEntropy(x, w, target, ignoreIndex, reduction)
            : Functional.CrossEntropy(Functional.Linear(x, w).Reshape(-1, classes), target.Reshape(-1), ignoreIndex: ignoreIndex, reduction: reduction);
        loss.Mul(lossScale).Backward();
        return (loss.Item(), x.Grad!.ToArray<double>(), w.Grad!.ToArray<double>());
    }

    [Theory]
    [InlineData(Reduction.Mean, 1.0)]
    [InlineData(Reduction.Mean, 0.3)]
    [InlineData(Reduction.Sum, 1.0)]
    [InlineData(Reduction.Sum, -2.5)]
    public void Fused_matches_the_composition(Reduction reduction, double lossScale)
    {
        foreach (int classes in new[] { 1, 5, 33, 300 })
        {
            var reference = Run(false, DType.Float64, classes, reduction, lossScale);
            var fused64 = Run(true, DType.Float64, classes, reduction, lossScale);
            Assert.Equal(reference.Loss, fused64.Loss, 12);
            TensorAssert.Close(reference.Dx, fused64.Dx, 1e-12, 1e-10, "dx float64");
            TensorAssert.Close(reference.Dw, fused64.Dw, 1e-12, 1e-10, "dW float64");

            var unfused32 = Run(false, DType.Float32, classes, reduction, lossScale);
            var fused32 = Run(true, DType.Float32, classes, reduction, lossScale);
            Assert.Equal(unfused32.Loss, fused32.Loss); // the loss's row passes are the unfused ones
            // dW sums 18 rows of cancelling terms: float32's error scales with the largest gradient, fused or not.
            double dxTol = 1e-5 * reference.Dx.Max(Math.Abs), dwTol = 1e-5 * reference.Dw.Max(Math.Abs);
            TensorAssert.Close(reference.Dx, unfused32.Dx, dxTol, 2e-5, "dx float32 unfused");
            TensorAssert.Close(reference.Dw, unfused32.Dw, dwTol, 2e-5, "dW float32 unfused");
            TensorAssert.Close(reference.Dx, fused32.Dx, dxTol, 2e-5, "dx float32");
            TensorAssert.Close(reference.Dw, fused32.Dw, dwTol, 2e-5, "dW float32");
            if (classes > 1) Assert.Contains(fused32.Dw, v => v != 0); // one class: softmax − one-hot is 0
        }
    }

    [Fact]
    public void Every_gemm_path_and_thread_count_agrees_with_the_float64_composition()
    {
        var reference = Run(false, DType.Float64, 300, Reduction.Mean, 1);
        (double, double[], double[])? first = null;
        foreach (var path in new[] { GemmPath.Scalar, GemmPath.Avx2, GemmPath.Avx512 })
        {
            if (!Gemm.IsSupported(path)) continue;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var fused = GemmTestCase.WithPath(path, () =>
                {
                    (double, double[], double[]) r = default;
                    GlobalSettings.WithThreads(threads, () => r = Run(true, DType.Float32, 300, Reduction.Mean, 1));
                    return r;
                });
                TensorAssert.Close(reference.Dx, fused.Item2, 2e-6, 2e-5, $"dx {path} {threads} threads");
                TensorAssert.Close(reference.Dw, fused.Item3, 2e-6, 2e-5, $"dW {path} {threads} threads");
                Assert.Equal(reference.Loss, fused.Item1, 5);
                if (path == GemmPath.Scalar) continue;
                // Along one path the thread count changes no bit (each row's passes and each GEMM sum in one order).
                if (threads == 1) first = fused;
                else
                {
                    Assert.Equal(first!.Value.Item2, fused.Item2);
                    Assert.Equal(first!.Value.Item3, fused.Item3);
                }
            }
        }
    }

    [Fact]
    public void GradCheck_in_float64()
    {
        var target = Tensor.FromArray(new long[] { 3, Ignore, 0, 6, 6, 1 }, 2, 3);
        TensorAssert.GradientsMatch(t => Functional.LinearCrossEntropy(t[0], t[1], target), TestTensors.Param(3, 2, 3, 5), TestTensors.Param(4, 7, 5));
        TensorAssert.GradientsMatch(t => Functional.LinearCrossEntropy(t[0], t[1], target, reduction: Reduction.Sum).Mul(0.7),
            TestTensors.Param(5, 2, 3, 5), TestTensors.Param(6, 7, 5));
    }

    [Fact]
    public void Without_gradients_or_unreduced_it_is_the_composition()
    {
        var x = TestTensors.Randn(1, DType.Float32, 2, 9, 24);
        var w = TestTensors.Randn(2, DType.Float32, 33, 24);
        var target = Targets(33);
        var plain = Functional.CrossEntropy(Functional.Linear(x, w).Reshape(-1, 33), target.Reshape(-1), reduction: Reduction.None);
        Assert.Equal(plain.ToArray<float>(), Functional.LinearCrossEntropy(x, w, target, reduction: Reduction.None).ToArray<float>());
        Assert.Equal(Functional.CrossEntropy(Functional.Linear(x, w).Reshape(-1, 33), target.Reshape(-1)).Item(),
            Functional.LinearCrossEntropy(x, w, target).Item());
    }

    [Fact]
    public void A_non_finite_row_gives_NaN_where_the_composition_does()
    {
        var xs = TestTensors.Randn(1, DType.Float32, 4, 6).ToArray<float>();
        xs[6] = float.PositiveInfinity; // row 1's logits become ±∞ or NaN
        foreach (long rowTarget in new long[] { 3, Ignore })
        {
            var target = Tensor.FromArray(new long[] { 2, rowTarget, Ignore, 0 }, 4);
            (float[] Loss, float[] Dx) Run(bool fused)
            {
                var x = Tensor.FromArray(xs, 4, 6).RequiresGrad_();
                var w = TestTensors.Randn(2, DType.Float32, 5, 6);
                var losses = fused ? Functional.LinearCrossEntropy(x, w, target, reduction: Reduction.None)
                    : Functional.CrossEntropy(Functional.Linear(x, w), target, reduction: Reduction.None);
                var loss = fused ? Functional.LinearCrossEntropy(x, w, target, reduction: Reduction.Sum)
                    : Functional.CrossEntropy(Functional.Linear(x, w), target, reduction: Reduction.Sum);
                loss.Backward();
                return (losses.ToArray<float>(), x.Grad!.ToArray<float>());
            }
            var (unfusedLoss, unfusedDx) = Run(false);
            var (fusedLoss, fusedDx) = Run(true);
            Assert.Equal(unfusedLoss.Select(float.IsNaN), fusedLoss.Select(float.IsNaN));
            Assert.Equal(unfusedDx.Select(float.IsNaN), fusedDx.Select(float.IsNaN));
            Assert.Contains(fusedDx, float.IsNaN);
        }
    }

    [Fact]
    public void Bad_targets_are_one_line_errors()
    {
        var x = TestTensors.Randn(1, DType.Float32, 2, 3, 4).RequiresGrad_();
        var w = TestTensors.Randn(2, DType.Float32, 5, 4);
        TensorAssert.Throws<ArgumentException>(() => Functional.LinearCrossEntropy(x, w, Tensor.Zeros(new Shape(6), DType.Int64)),
            "linear_cross_entropy", "target shape [6]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.LinearCrossEntropy(x, w, Tensor.Full(new Shape(2, 3), 5, DType.Int64)),
            "target 5", "out of range");
    }
}
