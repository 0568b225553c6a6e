namespace Loom;

// Max pooling that returns where each maximum came from, its inverse, adaptive max pooling, and average pooling
// with a fixed divisor (the pieces PyTorch users reach for beyond Functional.Pooling.cs). Indices are Int64 flat
// positions within each [H, W] plane, as PyTorch's return_indices:
//   max_pool2d with indices:  y = max over each window            dx = dy scattered to each window's argmax
//   adaptive_max_pool2d:      windows [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉)    dx as max_pool2d
//   max_unpool2d:             y = zeros, y[idx] = x               dx = dy[idx]
//   avg_pool2d(divisor d):    y = Σ window / d (padding counts as zeros), via Unfold: dx = dy/d over each window
public static partial class Functional
{
    /// <summary>2-D max pooling that also returns the Int64 in-plane index of each maximum (<c>max_pool2d(return_indices=True)</c>).</summary>
    public static (Tensor Output, Tensor Indices) MaxPool2dWithIndices(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1,
        bool ceilMode = false) =>
        MaxPool2dWithIndices(input, (kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding), (dilation, dilation), ceilMode);

    /// <summary>2-D max pooling with separate (height, width) arguments, returning the Int64 in-plane index of each maximum.</summary>
    public static (Tensor Output, Tensor Indices) MaxPool2dWithIndices(Tensor input, (int H, int W) kernelSize, (int H, int W)? stride = null,
        (int H, int W)? padding = null, (int H, int W)? dilation = null, bool ceilMode = false)
    {
        var (g, shape) = PoolGeometry("max_pool2d", input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), dilation ?? (1, 1), ceilMode, oneD: false, average: false);
        return input.DType == DType.Float32 ? ArgmaxPool<float>(input, g, shape, adaptive: false) : ArgmaxPool<double>(input, g, shape, adaptive: false);
    }

    /// <summary>
    /// max_pool2d (or, <paramref name="adaptive"/>, adaptive_max_pool2d) of geometry <paramref name="g"/> with the Int64
    /// in-plane index of each maximum. The kernel writes Int32 indices, even for 2×2 windows (which max_pool2d itself
    /// stores as byte codes), so both share the int-index backward.
    /// </summary>
    private static (Tensor, Tensor) ArgmaxPool<T>(Tensor input, Pool2dGeometry g, Shape shape, bool adaptive) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Tensor x;
        using (new NoGrad()) x = input.Contiguous();
        var y = Tensor.Empty(shape, input.DType);
        var indices = Tensor.Empty(shape, DType.Int32);
        if (adaptive) MaxPoolIndexKernels.AdaptiveMaxPool2d(x.AsReadOnlyMemory<T>(), g, y.AsMemory<T>(), indices.AsMemory<int>());
        else PoolingKernels.MaxPool2dForward(x.AsReadOnlyMemory<T>(), g, y.AsMemory<T>(), indices.AsMemory<int>());
        if (GradMode.ShouldRecord(input)) new ArgmaxScatterBackward<T>(adaptive ? "adaptive_max_pool2d" : "max_pool2d", input, indices, g).Attach(y);
        return (y, indices.To(DType.Int64));
    }

    /// <summary>Max pooling of an input [..., H, W] to [..., outH, outW] with windows chosen as PyTorch does.</summary>
    public static Tensor AdaptiveMaxPool2d(Tensor input, (int H, int W) outputSize) => AdaptiveMaxPool2dWithIndices(input, outputSize).Output;

    /// <summary>Adaptive max pooling to a square output.</summary>
    public static Tensor AdaptiveMaxPool2d(Tensor input, int outputSize) => AdaptiveMaxPool2d(input, (outputSize, outputSize));

    /// <summary>Adaptive max pooling that also returns the Int64 in-plane index of each maximum.</summary>
    public static (Tensor Output, Tensor Indices) AdaptiveMaxPool2dWithIndices(Tensor input, (int H, int W) outputSize)
    {
        const string op = "adaptive_max_pool2d";
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3 && input.Rank != 4)
            throw new ArgumentException($"{op}: expected input [N, C, H, W] or unbatched [C, H, W], got shape {input.Shape}");
        int h = input.Shape[^2], w = input.Shape[^1];
        if (outputSize.H < 1 || outputSize.W < 1)
            throw new ArgumentException($"{op}: output size ({outputSize.H}, {outputSize.W}) must be positive (input {input.Shape})");
        if (h == 0 || w == 0) throw new ArgumentException($"{op}: input {input.Shape} has an empty plane");
        CheckPoolDType(op, input);
        var dims = input.Shape.ToArray();
        (dims[^2], dims[^1]) = (outputSize.H, outputSize.W);
        var g = new Pool2dGeometry(input.Numel / (h * w), h, w, outputSize.H, outputSize.W, 0, 0, 0, 0, 0, 0, 0, 0);
        var shape = new Shape(dims);
        return input.DType == DType.Float32 ? ArgmaxPool<float>(input, g, shape, adaptive: true) : ArgmaxPool<double>(input, g, shape, adaptive: true);
    }

    /// <summary>The backward of a pooling that recorded each output's argmax: dx = dy scattered onto those positions.</summary>
    private sealed class ArgmaxScatterBackward<T> : BackwardNode where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly SavedTensor _indices;
        private readonly Pool2dGeometry _g;
        private readonly Shape _inputShape;

        public ArgmaxScatterBackward(string op, Tensor input, Tensor indices, Pool2dGeometry g) : base(op, input)
        {
            (_indices, _g, _inputShape) = (Save(indices), g, input.Shape);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var dx = Tensor.Empty(_inputShape, gradOutput.DType);
            PoolingKernels.MaxPool2dBackward(gradOutput.Contiguous().AsReadOnlyMemory<T>(), _indices.Value.AsReadOnlyMemory<int>(), _g, dx.AsMemory<T>());
            return [dx];
        }
    }

    /// <summary>
    /// The inverse of max pooling (like <c>torch.nn.functional.max_unpool2d</c>): zeros of the pre-pooling size with each
    /// input value put back at its Int64 in-plane <paramref name="indices"/> (from <see cref="MaxPool2dWithIndices(Tensor, int, int?, int, int, bool)"/>).
    /// </summary>
    /// <param name="outputSize">(H, W) of the result; default (in − 1)·stride − 2·padding + kernel per dimension.</param>
    public static Tensor MaxUnpool2d(Tensor input, Tensor indices, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        (int H, int W)? outputSize = null)
    {
        const string op = "max_unpool2d";
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(indices);
        if (input.Rank != 3 && input.Rank != 4) throw new ArgumentException($"{op}: expected input [N, C, H, W] or unbatched [C, H, W], got shape {input.Shape}");
        if (indices.Shape != input.Shape) throw new ArgumentException($"{op}: indices shape {indices.Shape} must equal input shape {input.Shape}");
        if (indices.DType != DType.Int64) throw new ArgumentException($"{op}: indices must be int64, got {indices.DType.Name()}");
        CheckPoolDType(op, input);
        var s = stride ?? kernelSize;
        var p = padding ?? (0, 0);
        int h = input.Shape[^2], w = input.Shape[^1];
        var (oh, ow) = outputSize ?? ((h - 1) * s.H - 2 * p.H + kernelSize.H, (w - 1) * s.W - 2 * p.W + kernelSize.W);
        if (oh <= 0 || ow <= 0) throw new ArgumentException($"{op}: output size ({oh}, {ow}) must be positive (input {input.Shape})");
        int inPlane = h * w, outPlane = oh * ow, planes = inPlane == 0 ? 0 : input.Numel / inPlane;
        Tensor x, idx;
        using (new NoGrad()) (x, idx) = (input.Contiguous(), indices.Contiguous());
        var at = idx.AsReadOnlySpan<long>();
        for (int i = 0; i < at.Length; i++)
            if ((ulong)at[i] >= (ulong)outPlane)
                throw new ArgumentException($"{op}: index {at[i]} at position {i} is outside the {oh}×{ow} output plane (input {input.Shape})");
        var dims = input.Shape.ToArray();
        (dims[^2], dims[^1]) = (oh, ow);
        var y = Tensor.Empty(new Shape(dims), input.DType);
        if (input.DType == DType.Float32) MaxPoolIndexKernels.MaxUnpool2d(x.AsReadOnlyMemory<float>(), idx.AsReadOnlyMemory<long>(), planes, inPlane, outPlane, y.AsMemory<float>());
        else MaxPoolIndexKernels.MaxUnpool2d(x.AsReadOnlyMemory<double>(), idx.AsReadOnlyMemory<long>(), planes, inPlane, outPlane, y.AsMemory<double>());
        return GradMode.ShouldRecord(input) ? new MaxUnpoolBackward(input, idx, planes, inPlane, outPlane).Attach(y) : y;
    }

    /// <summary>Max unpooling with a square kernel, stride and padding.</summary>
    public static Tensor MaxUnpool2d(Tensor input, Tensor indices, int kernelSize, int? stride = null, int padding = 0, (int H, int W)? outputSize = null) =>
        MaxUnpool2d(input, indices, (kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding), outputSize);

    private sealed class MaxUnpoolBackward : BackwardNode
    {
        private readonly SavedTensor _indices;
        private readonly int _planes, _inPlane, _outPlane;
        private readonly Shape _inputShape;

        public MaxUnpoolBackward(Tensor input, Tensor indices, int planes, int inPlane, int outPlane) : base("max_unpool2d", input)
        {
            _indices = Save(indices);
            (_planes, _inPlane, _outPlane, _inputShape) = (planes, inPlane, outPlane, input.Shape);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var dy = gradOutput.Contiguous();
            var dx = Tensor.Empty(_inputShape, dy.DType);
            if (dy.DType == DType.Float32)
                MaxPoolIndexKernels.MaxUnpool2dBackward(dy.AsReadOnlyMemory<float>(), _indices.Value.AsReadOnlyMemory<long>(), _planes, _inPlane, _outPlane, dx.AsMemory<float>());
            else
                MaxPoolIndexKernels.MaxUnpool2dBackward(dy.AsReadOnlyMemory<double>(), _indices.Value.AsReadOnlyMemory<long>(), _planes, _inPlane, _outPlane, dx.AsMemory<double>());
            return [dx];
        }
    }

    /// <summary>Average pooling whose every window divides by <paramref name="divisor"/> (PyTorch's divisor_override): window sums from Unfold.</summary>
    private static Tensor AvgPoolWithDivisor(Tensor input, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, bool ceilMode, int divisor)
    {
        const string op = "avg_pool2d";
        if (divisor <= 0) throw new ArgumentException($"{op}: divisor override must be positive, got {divisor} (input {input.Shape})");
        var (g, shape) = PoolGeometry(op, input, kernel, stride, padding, (1, 1), ceilMode, oneD: false, average: true);
        // Windows that ceil mode lets run past the padded input see zeros there, as in PyTorch.
        int extraH = Math.Max(0, (g.OutHeight - 1) * stride.H + kernel.H - (g.Height + 2 * padding.H));
        int extraW = Math.Max(0, (g.OutWidth - 1) * stride.W + kernel.W - (g.Width + 2 * padding.W));
        var planes = input.Reshape(1, g.Planes, g.Height, g.Width);
        var padded = Pad(planes, [padding.W, padding.W + extraW, padding.H, padding.H + extraH]);
        var sums = Unfold(padded, kernel, stride: stride).Reshape(g.Planes, kernel.H * kernel.W, g.OutHeight * g.OutWidth).Sum(1);
        return sums.Div(divisor).Reshape(shape.ToArray());
    }
}
