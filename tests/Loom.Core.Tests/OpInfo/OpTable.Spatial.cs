namespace Loom.Tests.OpInfo;

internal static partial class OpTable
{
    private static IEnumerable<OpInfo> Spatial() =>
    [
        Op("pad", (x, a) => Functional.Pad(x[0], a.Ints("pad"), a.String("mode") switch
        {
            "reflect" => PadMode.Reflect,
            "replicate" => PadMode.Replicate,
            "circular" => PadMode.Circular,
            _ => PadMode.Constant,
        }, a.Double("value", 0)), "Pad"),
        Op("interpolate", (x, a) => Functional.Interpolate(x[0], a.IntsOrNull("size"), a.Has("scale") ? a.Doubles("scale") : null, a.String("mode") switch
        {
            "nearest-exact" => InterpolateMode.NearestExact,
            "linear" => InterpolateMode.Linear,
            "bilinear" => InterpolateMode.Bilinear,
            _ => InterpolateMode.Nearest,
        }, a.Has("align_corners") ? a.Bool("align_corners") : null), "Interpolate"),
        Op("einsum", (x, a) => Functional.Einsum(a.String("equation"), x), "Einsum"),
        Op("pixel_shuffle", (x, a) => Functional.PixelShuffle(x[0], a.Int("r")), "PixelShuffle"),
        Op("pixel_unshuffle", (x, a) => Functional.PixelUnshuffle(x[0], a.Int("r")), "PixelUnshuffle"),
        Op("unfold", (x, a) => Functional.Unfold(x[0], a.Pair("kernel"), a.Pair("dilation"), a.Pair("padding"), a.Pair("stride")), "Unfold"),
        Op("fold", (x, a) => Functional.Fold(x[0], a.Pair("size"), a.Pair("kernel"), a.Pair("dilation"), a.Pair("padding"), a.Pair("stride")), "Fold"),
        Multi("max_pool2d_with_indices", (x, a) =>
        {
            var (y, i) = Functional.MaxPool2dWithIndices(x[0], a.Pair("kernel"), a.Pair("stride"), a.Pair("padding"), a.Pair("dilation"), a.Bool("ceil_mode"));
            return [y, i];
        }, "MaxPool2dWithIndices"),
        Op("max_unpool2d", (x, a) => Functional.MaxUnpool2d(x[0], x[1], a.Pair("kernel"), a.Pair("stride"), a.Pair("padding"),
            a.Has("size") ? a.Pair("size") : null), "MaxUnpool2d") with
        {
            NotGradChecked = [("k3s2p1", "overlapping windows can return one maximum twice: it is written back once, yet both inputs get its gradient (PyTorch's definition)")],
        },
        Multi("adaptive_max_pool2d", (x, a) =>
        {
            var (y, i) = Functional.AdaptiveMaxPool2dWithIndices(x[0], a.Pair("size"));
            TensorEqual(y, Functional.AdaptiveMaxPool2d(x[0], a.Pair("size")));
            return [y, i];
        }, "AdaptiveMaxPool2dWithIndices", "AdaptiveMaxPool2d"),
        Op("avg_pool2d_divisor", (x, a) => Functional.AvgPool2d(x[0], a.Pair("kernel"), a.Pair("stride"), a.Pair("padding"), ceilMode: a.Bool("ceil_mode"),
            divisorOverride: a.Int("divisor")), "AvgPool2d"),
        Op("conv2d_same", (x, a) => Functional.Conv2d(x[0], x[1], Opt(x, 2), ConvPadding.Same, a.Pair("dilation"), a.Int("groups")), "Conv2d"),
        Op("conv1d_same", (x, a) => Functional.Conv1d(x[0], x[1], Opt(x, 2), ConvPadding.Same, a.Int("dilation")), "Conv1d"),
        // With running statistics the outputs are y and the statistics after the in-place update (which needs them contiguous).
        Multi("instance_norm", (x, a) =>
        {
            if (!a.Bool("running")) return [Functional.InstanceNorm(x[0], eps: a.Double("eps"))];
            var (mean, variance) = (x[1].Contiguous(), x[2].Contiguous());
            return [Functional.InstanceNorm(x[0], mean, variance, x[3], x[4], a.Bool("use_input_stats"), 0.1, a.Double("eps")), mean, variance];
        }, "InstanceNorm"),
        // The renormalised weight is the second output; it is renormalised in place, which needs a contiguous weight.
        Multi("embedding_max_norm", (x, a) =>
        {
            var weight = x[1].Contiguous();
            return [Functional.Embedding(x[0], weight, maxNorm: a.Double("max_norm"), normType: a.Double("norm_type")), weight.Detach().Clone()];
        }, "Embedding") with
        {
            // Finite differences would see the in-place renormalisation, which is outside autograd (as in PyTorch).
            GradCheckElsewhere = "the embedding row (the lookup's gradient is the same)",
        },
    ];

    /// <summary>Asserts two results of one computation are identical (for a row that checks a convenience overload on the way).</summary>
    private static void TensorEqual(Tensor expected, Tensor actual)
    {
        if (!expected.Detach().AllClose(actual.Detach(), rtol: 0, atol: 0, equalNan: true)) throw new Xunit.Sdk.XunitException("the overloads disagree");
    }
}
