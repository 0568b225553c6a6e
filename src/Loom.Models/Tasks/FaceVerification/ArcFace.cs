namespace Loom.Models;

/// <summary>
/// ArcFace (Deng et al. 2019, "Additive Angular Margin Loss"): as <see cref="CosFace"/>, cross-entropy of scaled
/// cosines to learnt class directions, but the margin is added to the angle of the true class, s·cos(θ_y + m), rather
/// than taken off its cosine. The penalty is then uniform in angle (a geodesic margin on the sphere), where CosFace's
/// is largest for embeddings already near their class.
/// </summary>
public static class ArcFace
{
    /// <summary>
    /// The mean ArcFace loss of cosines [N, classes] against class indices [N]: cross-entropy of s·cos θ with the true
    /// class's replaced by s·cos(θ + m). Where θ + m would pass π, cos(θ + m) stops falling as θ grows, so there the
    /// true logit is cos θ − m·sin m instead (insightface's choice: it continues the curve downwards, so a sample
    /// far from its class is still pushed towards it).
    /// </summary>
    public static Tensor Loss(Tensor cosines, Tensor targets, double scale = 16, double margin = 0.3)
    {
        CosFace.CheckShapes("ArcFace.Loss", cosines, targets);
        if (!(scale > 0) || !(margin >= 0 && margin < Math.PI / 2)) throw new ArgumentException($"ArcFace.Loss: needs scale > 0 and 0 ≤ margin < π/2, got {scale} and {margin}");
        var labels = targets.To(DType.Int64);
        var oneHot = Functional.OneHot(labels, cosines.Shape[1]).To(cosines.DType);
        // 1 − cos² is clamped away from 0: sqrt's derivative is infinite there (a cosine of exactly ±1).
        var sine = (1 - cosines * cosines).Clamp(min: 1e-12).Sqrt();
        var shifted = cosines * Math.Cos(margin) - sine * Math.Sin(margin);
        var fallback = cosines - margin * Math.Sin(margin);
        var trueLogit = Tensor.Where(cosines.Gt(Math.Cos(Math.PI - margin)), shifted, fallback);
        return Functional.CrossEntropy((cosines + oneHot * (trueLogit - cosines)) * scale, labels);
    }
}
