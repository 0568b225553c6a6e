namespace Loom.Tests.Linear;

// Compares float32 gradients at 1e-5 between two GEMM routes: with another test forcing Gemm.ForcedPath (AVX2, scalar)
// meanwhile, the two sides can sum in different orders (a full-suite run failed at 3.7e-5), so it runs with them.
/// <summary>Functional.Linear with its activation fused into the GEMM's epilogue, against Linear followed by the activation op.</summary>
[Collection(GlobalSettings.Name)]
public class FusedLinearTests
{
    public static TheoryData<Activation> Activations => new(Enum.GetValues<Activation>().Where(a => a != Activation.None));

    private static Tensor Unfused(Tensor x, Tensor w, Tensor? b, Activation activation)
    {
        var z = Functional.Linear(x, w, b);
        return activation switch
        {
            Activation.Relu => z.Relu(),
            Activation.Gelu => z.Gelu(),
            Activation.GeluTanh => z.Gelu(approximate: true),
            Activation.Silu => z.Silu(),
            Activation.Sigmoid => z.Sigmoid(),
            Activation.Tanh => z.Tanh(),
            _ => throw new ArgumentOutOfRangeException(nameof(activation)),
        };
    }

    /// <summary>Batch 1 (the matrix-vector kernels), a vector input, a 3-D input, a strided input and the blocked GEMM.</summary>
    private static IEnumerable<(Tensor X, Tensor W, Tensor? B)> Cases(DType dtype)
    {
        yield return (TestTensors.Randn(1, dtype, 1, 50), TestTensors.Randn(2, dtype, 37, 50), TestTensors.Randn(3, dtype, 37));
        yield return (TestTensors.Randn(4, dtype, 33), TestTensors.Randn(5, dtype, 9, 33), null);
        yield return (TestTensors.Randn(6, dtype, 2, 5, 33), TestTensors.Randn(7, dtype, 70, 33), TestTensors.Randn(8, dtype, 70));
        yield return (TestTensors.NonContiguous(TestTensors.Randn(9, dtype, 17, 20)), TestTensors.Randn(10, dtype, 1, 20), TestTensors.Randn(11, dtype, 1));
        yield return (TestTensors.Randn(12, dtype, 65, 400), TestTensors.Randn(13, dtype, 257, 400), TestTensors.Randn(14, dtype, 257));
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void Fused_activation_gives_the_values_of_linear_then_the_activation(Activation activation)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            double tol = dtype == DType.Float32 ? 1e-6 : 1e-14;
            foreach (var (x, w, b) in Cases(dtype))
            {
                var expected = Unfused(x, w, b, activation);
                using (new NoGrad()) TensorAssert.Close(expected, Functional.Linear(x, w, b, activation), tol, tol);

                // Recording: GELU and SiLU keep the pre-activation in a second tensor, the others activate in place.
                var (xg, wg) = (x.Detach().RequiresGrad_(), w.Detach().RequiresGrad_());
                var fused = Functional.Linear(xg, wg, b, activation);
                Assert.Equal(expected.Shape, fused.Shape);
                TensorAssert.Close(expected, fused, tol, tol);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void Fused_gradients_match_finite_differences(Activation activation)
    {
        var x = TestTensors.Param(1, 2, 3, 4);
        var w = TestTensors.Param(2, 5, 4);
        var b = TestTensors.Param(3, 5);
        TensorAssert.GradientsMatch(t => Functional.Linear(t[0], t[1], t[2], activation), x, w, b);
        TensorAssert.GradientsMatch(t => Functional.Linear(t[0], t[1], null, activation), x, w);
        TensorAssert.GradientsMatch(t => Functional.Linear(t[0], t[1], t[2], activation), TestTensors.Param(4, 1, 4), w, b); // batch 1
        TensorAssert.GradientsMatch(t => Functional.Linear(t[0].Transpose(0, 1), t[1], t[2], activation).Transpose(0, 2), x, w, b);
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void Fused_backward_gives_the_gradients_of_linear_then_the_activation(Activation activation)
    {
        foreach (var (x, w, b) in Cases(DType.Float32))
        {
            (Tensor? X, Tensor? W, Tensor? B) Gradients(Func<Tensor, Tensor, Tensor?, Tensor> f)
            {
                var (xg, wg, bg) = (x.Detach().RequiresGrad_(), w.Detach().RequiresGrad_(), b?.Detach().RequiresGrad_());
                var y = f(xg, wg, bg);
                y.Backward(Tensor.Randn(y.Shape, new Random.Generator(5)));
                return (xg.Grad, wg.Grad, bg?.Grad);
            }
            var expected = Gradients((xg, wg, bg) => Unfused(xg, wg, bg, activation));
            var actual = Gradients((xg, wg, bg) => Functional.Linear(xg, wg, bg, activation));
            TensorAssert.Close(expected.X!, actual.X!, 1e-5, 1e-5);
            TensorAssert.Close(expected.W!, actual.W!, 1e-5, 1e-5);
            if (b is not null) TensorAssert.Close(expected.B!, actual.B!, 1e-5, 1e-5);
        }
    }

    [Fact]
    public void Changing_the_saved_output_of_a_fused_relu_in_place_makes_backward_fail()
    {
        // ReLU's derivative is read from the output, which the fused op saves instead of a pre-activation tensor.
        var y = Functional.Linear(TestTensors.Param(1, 3, 4), TestTensors.Param(2, 5, 4), null, Activation.Relu);
        using (new NoGrad()) y.CopyFrom(Tensor.Ones(y.Shape, DType.Float64));
        TensorAssert.Throws<InvalidOperationException>(() => y.Backward(Tensor.Ones(y.Shape, DType.Float64)), "linear_relu", "in-place");
    }

    [Fact]
    public void Under_no_grad_the_fused_op_allocates_one_output()
    {
        var x = TestTensors.Randn(1, DType.Float32, 64, 100);
        var w = TestTensors.Randn(2, DType.Float32, 256, 100);
        var b = TestTensors.Randn(3, DType.Float32, 256);
        using var noGrad = new NoGrad();
        foreach (var activation in new[] { Activation.Relu, Activation.Gelu })
        {
            Functional.Linear(x, w, b, activation); // warm up (JIT, pools)
            long before = GC.GetAllocatedBytesForCurrentThread();
            Functional.Linear(x, w, b, activation);
            long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            // One [64, 256] float output is 64 KiB; Linear then the activation op allocates two.
            Assert.InRange(bytes, 64 * 256 * 4, 64 * 256 * 4 + 4096);
        }
    }

    [Fact]
    public void An_unknown_activation_is_refused()
    {
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => Functional.Linear(Tensor.Zeros(2, 3), Tensor.Zeros(4, 3), null, (Activation)99), "linear", "activation");
    }
}
