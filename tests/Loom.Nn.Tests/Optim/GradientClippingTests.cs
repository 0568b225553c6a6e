namespace Loom.Nn.Tests.Optim;

public class GradientClippingTests
{
    [Fact]
    public void Clip_grad_norm_scales_to_the_max_norm_and_returns_the_original_norm()
    {
        var a = new Parameter(Tensor.Zeros(2)) { Grad = Tensor.FromArray(new float[] { 3, 0 }) };
        var b = new Parameter(Tensor.Zeros(1)) { Grad = Tensor.FromArray(new float[] { 4 }) };
        double norm = GradientClipping.ClipGradNorm([a, b], maxNorm: 1);
        Assert.Equal(5, norm, 5);
        Assert.Equal(0.6, a.Grad!.GetDouble(0), 5);
        Assert.Equal(0.8, b.Grad!.GetDouble(0), 5);
    }

    [Fact]
    public void Clip_grad_norm_leaves_small_gradients_alone_and_supports_infinity_norm()
    {
        var a = new Parameter(Tensor.Zeros(2)) { Grad = Tensor.FromArray(new double[] { 0.3, -0.4 }) };
        Assert.Equal(0.5, GradientClipping.ClipGradNorm([a], maxNorm: 1), 12);
        Assert.Equal(new[] { 0.3, -0.4 }, a.Grad!.ToArray<double>());
        Assert.Equal(0.4, GradientClipping.ClipGradNorm([a], maxNorm: 1, normType: double.PositiveInfinity), 12);
    }

    [Fact]
    public void Non_finite_norm_is_an_error_when_asked()
    {
        var a = new Parameter(Tensor.Zeros(2)) { Grad = Tensor.FromArray(new float[] { float.NaN, 1 }) };
        Assert.Throws<InvalidOperationException>(() => GradientClipping.ClipGradNorm([a], 1, errorIfNonFinite: true));
    }

    [Fact]
    public void Clip_grad_value_clamps_each_element()
    {
        var a = new Parameter(Tensor.Zeros(3)) { Grad = Tensor.FromArray(new float[] { -5, 0.5f, 7 }) };
        GradientClipping.ClipGradValue([a], 1);
        Assert.Equal(new float[] { -1, 0.5f, 1 }, a.Grad!.ToArray<float>());
    }
}
