namespace Loom;

// Padding of the trailing dimensions, one dimension at a time, composed from differentiable ops:
//   constant:                     Cat([value block, x, value block]) (Narrow for negative padding, which crops)
//   reflect, replicate, circular: x.IndexSelect(d, source index of each output position), so the backward's index_add
//                                 sums the gradient of every copy back onto its source element
// Source index of output position j ∈ [−l, n + r) for an axis of size n:
//   reflect: |j| for j < 0, 2(n − 1) − j for j ≥ n;  replicate: clamp(j, 0, n − 1);  circular: j mod n.
public static partial class Functional
{
    /// <summary>
    /// Pads the last dimensions of <paramref name="input"/> (like <c>torch.nn.functional.pad</c>):
    /// <paramref name="pad"/> holds (left, right) pairs starting from the last dimension, so (1, 2) pads the last
    /// dimension by 1 before and 2 after, and (1, 1, 2, 0) also pads the one before it by 2 on top.
    /// </summary>
    /// <remarks>
    /// Constant padding takes any number of dimensions and negative amounts (cropping). The other modes pad at most
    /// the last three dimensions and need padding smaller than the dimension (reflect) or at most its size (circular).
    /// PyTorch also requires them to have batch and channel dimensions in front; Loom pads the trailing dimensions of
    /// any tensor.
    /// </remarks>
    public static Tensor Pad(Tensor input, int[] pad, PadMode mode = PadMode.Constant, double value = 0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(pad);
        const string op = "pad";
        string Describe() => $"padding {Shape.Format(pad)} ({mode.ToString().ToLowerInvariant()}) for input {input.Shape}";
        if (pad.Length % 2 != 0) throw new ArgumentException($"{op}: {Describe()}: give an even number of amounts, (left, right) per dimension");
        int dims = pad.Length / 2;
        if (dims > input.Rank) throw new ArgumentException($"{op}: {Describe()} pads {dims} dimensions, the input has {input.Rank}");
        if (mode != PadMode.Constant)
        {
            if (dims > 3) throw new ArgumentException($"{op}: {Describe()}: {mode} padding covers at most the last 3 dimensions");
            if (pad.Any(p => p < 0)) throw new ArgumentException($"{op}: {Describe()}: only constant padding may be negative");
        }
        var x = input;
        for (int i = 0; i < dims; i++)
        {
            int axis = input.Rank - 1 - i, left = pad[2 * i], right = pad[2 * i + 1];
            if (left == 0 && right == 0) continue;
            int n = x.Shape[axis];
            x = mode == PadMode.Constant ? PadConstant(x, axis, left, right, value, Describe) : x.IndexSelect(axis, SourceIndex(mode, n, left, right, Describe));
        }
        return ReferenceEquals(x, input) ? input.Clone() : x;
    }

    private static Tensor PadConstant(Tensor x, int axis, int left, int right, double value, Func<string> describe)
    {
        int n = x.Shape[axis];
        if (n + left + right < 0) throw new ArgumentException($"pad: {describe()} crops dimension {axis} of size {n} below zero");
        if (left < 0) (x, n) = (x.Narrow(axis, -left, n + left), n + left);
        if (right < 0) x = x.Narrow(axis, 0, n + right);
        var parts = new List<Tensor>(3);
        if (left > 0) parts.Add(Block(x, axis, left, value));
        parts.Add(x);
        if (right > 0) parts.Add(Block(x, axis, right, value));
        return parts.Count == 1 ? x : Tensor.Cat(parts, axis);
    }

    /// <summary>A tensor of <paramref name="x"/>'s shape and dtype with <paramref name="size"/> along the axis, filled with the value.</summary>
    private static Tensor Block(Tensor x, int axis, int size, double value)
    {
        var dims = x.Shape.ToArray();
        dims[axis] = size;
        return Tensor.Full(new Shape(dims), value, x.DType);
    }

    private static Tensor SourceIndex(PadMode mode, int n, int left, int right, Func<string> describe)
    {
        if (n == 0) throw new ArgumentException($"pad: {describe()}: cannot {mode.ToString().ToLowerInvariant()}-pad an empty dimension");
        if (mode == PadMode.Reflect && (left >= n || right >= n))
            throw new ArgumentException($"pad: {describe()}: reflect padding must be smaller than the dimension it pads ({n})");
        if (mode == PadMode.Circular && (left > n || right > n))
            throw new ArgumentException($"pad: {describe()}: circular padding must not exceed the dimension it pads ({n})");
        var index = new long[n + left + right];
        for (int k = 0; k < index.Length; k++)
        {
            int j = k - left;
            index[k] = mode switch
            {
                PadMode.Reflect => j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j,
                PadMode.Replicate => Math.Clamp(j, 0, n - 1),
                _ => ((j % n) + n) % n,
            };
        }
        return Tensor.FromArray(index);
    }
}
