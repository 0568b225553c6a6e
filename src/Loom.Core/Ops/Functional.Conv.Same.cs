namespace Loom;

// padding='same' and 'valid' for stride-1 convolutions. 'Same' needs d·(k − 1) zeros per spatial dimension: ⌊·/2⌋ on
// each side through the convolution's own padding and, when the total is odd, one more after (bottom, right) by
// Functional.Pad first, as PyTorch splits it. Gradients are those of Pad and the convolution.
public static partial class Functional
{
    /// <summary>2-D convolution with padding named 'same' (output size = input size) or 'valid' (none); stride 1.</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, ConvPadding padding, (int H, int W)? dilation = null, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var d = dilation ?? (1, 1);
        if (padding == ConvPadding.Valid) return Conv2d(input, weight, bias, (1, 1), (0, 0), d, groups);
        if (weight.Rank != 4) throw new ArgumentException($"conv2d: weight must be [OutC, C / groups, kH, kW], got shape {weight.Shape}");
        var (h, extraH) = SamePadding(d.H, weight.Shape[2]);
        var (w, extraW) = SamePadding(d.W, weight.Shape[3]);
        var x = extraH + extraW > 0 ? Pad(input, [0, extraW, 0, extraH]) : input;
        return Conv2d(x, weight, bias, (1, 1), (h, w), d, groups);
    }

    /// <summary>1-D convolution with padding named 'same' (output length = input length) or 'valid' (none); stride 1.</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias, ConvPadding padding, int dilation = 1, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (padding == ConvPadding.Valid) return Conv1d(input, weight, bias, 1, 0, dilation, groups);
        if (weight.Rank != 3) throw new ArgumentException($"conv1d: weight must be [OutC, C / groups, k], got shape {weight.Shape}");
        var (p, extra) = SamePadding(dilation, weight.Shape[2]);
        var x = extra > 0 ? Pad(input, [0, extra]) : input;
        return Conv1d(x, weight, bias, 1, p, dilation, groups);
    }

    /// <summary>The symmetric part of d·(k − 1) and the one left over.</summary>
    private static (int Both, int Extra) SamePadding(int dilation, int kernel)
    {
        int total = dilation * (kernel - 1);
        return (total / 2, total % 2);
    }
}
