namespace Loom.Models.Tests.Faces;

/// <summary>ArcFace's loss against values worked by hand (both branches of the true logit) and finite differences.</summary>
public sealed class ArcFaceTests
{
    private static double Softplus(double x) => Math.Log(1 + Math.Exp(x));

    [Fact]
    public void The_true_class_angle_is_widened_by_the_margin()
    {
        var cosines = Tensor.FromArray([0.5, 0.2, 0.1, 0.7], 2, 2);
        var targets = Tensor.FromArray([0L, 1L], 2);
        // s = 2, m = 0.3: the true logits are 2·cos(acos(0.5) + 0.3) and 2·cos(acos(0.7) + 0.3); two classes, so each
        // row's cross-entropy is softplus(other − true).
        double true0 = Math.Cos(Math.Acos(0.5) + 0.3), true1 = Math.Cos(Math.Acos(0.7) + 0.3);
        double expected = (Softplus(2 * (0.2 - true0)) + Softplus(2 * (0.1 - true1))) / 2;
        Assert.Equal(expected, ArcFace.Loss(cosines, targets, scale: 2, margin: 0.3).Item(), 1e-12);
        // No margin: plain cross-entropy of s·cos, as CosFace without its margin.
        Assert.Equal(CosFace.Loss(cosines, targets, scale: 2, margin: 0).Item(), ArcFace.Loss(cosines, targets, scale: 2, margin: 0).Item(), 1e-12);
        Assert.Throws<ArgumentException>(() => ArcFace.Loss(cosines, Tensor.FromArray([0L], 1)));
        Assert.Throws<ArgumentException>(() => ArcFace.Loss(cosines, targets, margin: 2));
    }

    [Fact]
    public void Past_pi_minus_the_margin_the_true_logit_keeps_falling_as_cos_minus_m_sin_m()
    {
        // cos θ = −0.99 is below cos(π − 0.3) = −0.955: cos(θ + m) would rise again, so the true logit is −0.99 − 0.3·sin 0.3.
        var cosines = Tensor.FromArray([-0.99, 0.0], 1, 2);
        var targets = Tensor.FromArray([0L], 1);
        double expected = Softplus(4 * (0.0 - (-0.99 - 0.3 * Math.Sin(0.3))));
        Assert.Equal(expected, ArcFace.Loss(cosines, targets, scale: 4, margin: 0.3).Item(), 1e-12);
    }

    [Fact]
    public void The_gradient_through_normalisation_and_the_angle_matches_finite_differences()
    {
        var g = new Generator(23);
        var x = Tensor.Randn(new Shape(4, 5), g, DType.Float64).RequiresGrad_();
        var w = Tensor.Randn(new Shape(3, 5), g, DType.Float64).RequiresGrad_();
        var targets = Tensor.FromArray([0L, 2L, 1L, 2L], 4);
        Assert.Null(GradCheck.Run(a => ArcFace.Loss(CosFace.Normalize(a[0]).Matmul(CosFace.Normalize(a[1]).Transpose(0, 1)), targets, scale: 8, margin: 0.4), [x, w]));
    }
}
