namespace Loom.Nn;

/// <summary>
/// Resizes the spatial dimensions of [N, C, *] to a size or by a scale factor (like <c>torch.nn.Upsample</c>); see
/// <see cref="Functional.Interpolate"/> for the modes and <c>alignCorners</c>.
/// </summary>
public sealed class Upsample : Module<Tensor, Tensor>
{
    /// <param name="size">The output's spatial size (one value for all dimensions), or null to use <paramref name="scaleFactor"/>.</param>
    /// <param name="scaleFactor">Multiplier of each spatial size (one value for all), or null to use <paramref name="size"/>.</param>
    public Upsample(int[]? size = null, double[]? scaleFactor = null, InterpolateMode mode = InterpolateMode.Nearest, bool? alignCorners = null)
    {
        if ((size is null) == (scaleFactor is null)) throw new ArgumentException("Upsample: give exactly one of size and scale factor");
        (Size, ScaleFactor, Mode, AlignCorners) = (size, scaleFactor, mode, alignCorners);
    }

    public int[]? Size { get; }
    public double[]? ScaleFactor { get; }
    public InterpolateMode Mode { get; }
    public bool? AlignCorners { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.Interpolate(input, Size, ScaleFactor, Mode, AlignCorners);

    protected override string ExtraRepr() =>
        (Size is null ? $"scale_factor=({string.Join(", ", ScaleFactor!)})" : $"size=({string.Join(", ", Size)})") +
        $", mode='{(Mode == InterpolateMode.NearestExact ? "nearest-exact" : Mode.ToString().ToLowerInvariant())}'" +
        (AlignCorners is bool a ? $", align_corners={a}" : "");
}
