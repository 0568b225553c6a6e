namespace Loom.Tests.Autograd;

/// <summary>
/// Gradients through dtype conversions (<c>To</c>): the gradient passes through unchanged and arrives in the input's
/// dtype, as in PyTorch. Finite differences run in float64 with a step far above float32's rounding (≈1e-7 relative),
/// so a path through float32 is seen as the identity it is meant to be.
/// </summary>
public class ConversionGradTests
{
    [Fact]
    public void A_float32_round_trip_passes_the_gradient_through()
    {
        var x = TestTensors.Param(1, 3, 4);
        var c = TestTensors.Randn(2, DType.Float64, 3, 4);
        // Jacobian diag(c): linear in the cast value, so the only error is float32 rounding over the step.
        TensorAssert.GradientsMatch(t => t[0].To(DType.Float32).To(DType.Float64).Mul(c), [x], eps: 1e-3, atol: 1e-5, rtol: 1e-4);
        // Product rule with one factor computed in float32: both paths must reach x.
        TensorAssert.GradientsMatch(t => t[0].To(DType.Float32).Tanh().To(DType.Float64).Mul(t[0]), [x], eps: 1e-3, atol: 1e-4, rtol: 1e-3);
    }

    [Fact]
    public void The_gradient_arrives_in_the_dtype_of_the_input()
    {
        var x64 = TestTensors.Param(3, 5);
        x64.To(DType.Float32).Mul(2).Sum().Backward();
        Assert.Equal(DType.Float64, x64.Grad!.DType);
        Assert.All(x64.Grad.ToArray<double>(), g => Assert.Equal(2, g));

        var x32 = TestTensors.Randn(4, DType.Float32, 5).RequiresGrad_();
        var c = Tensor.FromArray(new[] { 0.1, -0.25, 3.0, 1e-3, -7.5 });
        x32.To(DType.Float64).Mul(c).Sum().Backward();
        Assert.Equal(DType.Float32, x32.Grad!.DType);
        Assert.Equal(new[] { 0.1f, -0.25f, 3f, 1e-3f, -7.5f }, x32.Grad.ToArray<float>());
    }

    [Fact]
    public void Same_dtype_is_the_tensor_itself_and_integer_results_leave_the_graph()
    {
        var x = TestTensors.Param(5, 4);
        Assert.Same(x, x.To(DType.Float64));
        Assert.False(x.To(DType.Int32).RequiresGrad);
        Assert.False(x.To(DType.Bool).RequiresGrad);
    }
}
