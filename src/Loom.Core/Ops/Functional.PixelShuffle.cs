namespace Loom;

// Depth-to-space and back, as views and copies (Reshape, Permute), so gradients are exact rearrangements:
//   pixel_shuffle(r):    [*, C·r², H, W] → [*, C, H·r, W·r]:  y[c, h·r + i, w·r + j] = x[c·r² + i·r + j, h, w]
//   pixel_unshuffle(r):  the inverse
public static partial class Functional
{
    /// <summary>Rearranges [*, C·r², H, W] into [*, C, H·r, W·r] (like <c>torch.nn.functional.pixel_shuffle</c>).</summary>
    public static Tensor PixelShuffle(Tensor input, int upscaleFactor)
    {
        ArgumentNullException.ThrowIfNull(input);
        int r = upscaleFactor;
        if (input.Rank < 3) throw new ArgumentException($"pixel_shuffle: expected input [*, C, H, W], got shape {input.Shape}");
        if (r <= 0) throw new ArgumentException($"pixel_shuffle: upscale factor must be positive, got {r}");
        var lead = input.Shape.ToArray()[..^3];
        int c = input.Shape[^3], h = input.Shape[^2], w = input.Shape[^1];
        if (c % (r * r) != 0) throw new ArgumentException($"pixel_shuffle: {c} channels of input {input.Shape} are not divisible by the upscale factor squared ({r * r})");
        int k = lead.Length;
        var x = input.Reshape([.. lead, c / (r * r), r, r, h, w]);
        // [*, C, i, j, H, W] → [*, C, H, i, W, j]
        int[] order = [.. Enumerable.Range(0, k), k, k + 3, k + 1, k + 4, k + 2];
        return x.Permute(order).Reshape([.. lead, c / (r * r), h * r, w * r]);
    }

    /// <summary>Rearranges [*, C, H·r, W·r] into [*, C·r², H, W] (like <c>torch.nn.functional.pixel_unshuffle</c>).</summary>
    public static Tensor PixelUnshuffle(Tensor input, int downscaleFactor)
    {
        ArgumentNullException.ThrowIfNull(input);
        int r = downscaleFactor;
        if (input.Rank < 3) throw new ArgumentException($"pixel_unshuffle: expected input [*, C, H, W], got shape {input.Shape}");
        if (r <= 0) throw new ArgumentException($"pixel_unshuffle: downscale factor must be positive, got {r}");
        var lead = input.Shape.ToArray()[..^3];
        int c = input.Shape[^3], h = input.Shape[^2], w = input.Shape[^1];
        if (h % r != 0 || w % r != 0) throw new ArgumentException($"pixel_unshuffle: height and width of input {input.Shape} are not divisible by the downscale factor {r}");
        int k = lead.Length;
        var x = input.Reshape([.. lead, c, h / r, r, w / r, r]);
        // [*, C, H, i, W, j] → [*, C, i, j, H, W]
        int[] order = [.. Enumerable.Range(0, k), k, k + 2, k + 4, k + 1, k + 3];
        return x.Permute(order).Reshape([.. lead, c * r * r, h / r, w / r]);
    }
}
