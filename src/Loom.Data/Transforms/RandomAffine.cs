using System.Numerics;

namespace Loom.Data;

/// <summary>
/// A random rotation, scaling and translation about the image centre, resampled bilinearly (torchvision's
/// <c>RandomAffine(degrees, translate, scale)</c>). With centre c = ((W−1)/2, (H−1)/2), angle θ, scale s and shift t
/// (in pixels) a source point p moves to p' = c + s·R(θ)(p − c) + t; each output pixel samples the source at the
/// inverse image p = c + R(−θ)(p' − c − t)/s, and points outside the image read <see cref="Fill"/>.
/// </summary>
/// <remarks>Positive angles turn the picture counter-clockwise as displayed (rows grow downwards), as in torchvision.</remarks>
/// <param name="degrees">θ is drawn uniformly from [−degrees, degrees].</param>
/// <param name="translate">Largest shift as a fraction of the width (x) and height (y); the shift is uniform in ±that.</param>
/// <param name="scale">s is drawn uniformly from [scale.Min, scale.Max]; null keeps the size.</param>
public sealed class RandomAffine(double degrees, (double X, double Y)? translate = null, (double Min, double Max)? scale = null, double fill = 0, ulong seed = 0)
    : RandomImageTransform(seed)
{
    public double Degrees { get; } = InRange(nameof(RandomAffine), nameof(degrees), degrees, 0, 180);

    public (double X, double Y) Translate { get; } = Fractions(translate ?? (0, 0));

    public (double Min, double Max) Scale { get; } = PositiveRange(nameof(RandomAffine), nameof(scale), scale ?? (1, 1));

    public double Fill { get; } = fill;

    private static (double X, double Y) Fractions((double X, double Y) t) =>
        (InRange(nameof(RandomAffine), "translate", t.X, 0, 1), InRange(nameof(RandomAffine), "translate", t.Y, 0, 1));

    protected override string Name => "RandomAffine";

    protected override void TransformImage<T>(ReadOnlySpan<T> source, Span<T> destination, int channels, int height, int width)
    {
        double angle = Uniform(-Degrees, Degrees) * Math.PI / 180;
        double tx = Uniform(-Translate.X, Translate.X) * width, ty = Uniform(-Translate.Y, Translate.Y) * height;
        double s = Uniform(Scale.Min, Scale.Max);
        Span<double> m = stackalloc double[6];
        InverseMatrix(angle, s, tx, ty, height, width, m);
        ImageKernels.AffineBilinear(source, channels, height, width, m, T.CreateChecked(Fill), destination);
    }

    /// <summary>
    /// The inverse map as a 2×3 matrix [m0 m1 m2; m3 m4 m5] from output to source pixel coordinates. With rows growing
    /// downwards a counter-clockwise turn by θ is p' − c = s·[cos θ, sin θ; −sin θ, cos θ](p − c) + t, whose inverse is
    /// p − c = [cos θ, −sin θ; sin θ, cos θ](p' − c − t)/s.
    /// </summary>
    internal static void InverseMatrix(double angle, double scale, double tx, double ty, int height, int width, Span<double> m)
    {
        double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
        double cos = Math.Cos(angle) / scale, sin = Math.Sin(angle) / scale;
        m[0] = cos;
        m[1] = -sin;
        m[3] = sin;
        m[4] = cos;
        double ox = cx + tx, oy = cy + ty; // where the centre lands
        m[2] = cx - cos * ox + sin * oy;
        m[5] = cy - sin * ox - cos * oy;
    }
}
