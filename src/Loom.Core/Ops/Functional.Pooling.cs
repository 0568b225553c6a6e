namespace Loom;

// Pooling over the last two dimensions (every leading dimension is an independent plane), as torch.nn.functional.
//   max_pool2d:           y = max over each window               dx = dy scattered to each window's argmax (saved)
//   avg_pool2d:           y = Σ window / divisor                 dx = dy / divisor spread over each window
//   adaptive_avg_pool2d:  windows [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉)       dx as avg_pool2d
// The 1-D forms pool [N, C, L] as planes of height 1. Kernels: Kernels/PoolingKernels.cs; 2×2 windows with stride 2
// (the CNN case) take vectorised paths that save max-pool's argmax as a byte per window.
public static partial class Functional
{
    /// <summary>2-D max pooling of an input [N, C, H, W] (or [C, H, W]); stride defaults to the kernel size.</summary>
    /// <remarks>OH = ⌊(H + 2p − d(k − 1) − 1) / s⌋ + 1 (rounded up in ceil mode); padding is never the maximum.</remarks>
    public static Tensor MaxPool2d(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) =>
        MaxPool2d(input, (kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding), (dilation, dilation), ceilMode);

    /// <summary>2-D max pooling with separate (height, width) kernel, stride, padding and dilation.</summary>
    public static Tensor MaxPool2d(Tensor input, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        (int H, int W)? dilation = null, bool ceilMode = false)
    {
        var (g, shape) = PoolGeometry("max_pool2d", input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), dilation ?? (1, 1), ceilMode, oneD: false, average: false);
        return input.DType == DType.Float32 ? MaxPoolCore<float>(input, g, shape) : MaxPoolCore<double>(input, g, shape);
    }

    /// <summary>
    /// <see cref="MaxPool2d(Tensor, ValueTuple{int, int}, ValueTuple{int, int}?, ValueTuple{int, int}?, ValueTuple{int, int}?, bool)"/>
    /// on activations in the blocked-channel layout [N, C / b, H, W, b] of <see cref="Conv2dBlocked"/>: returns
    /// [N, C / b, OH, OW, b], the values of max_pool2d on the NCHW tensor as PyTorch scans a window (the first maximum
    /// in window order wins, NaN wins), so that an inference chain of blocked convolutions need not leave the layout for a max pool. With
    /// one SIMD vector per block each window is one vector maximum per tap, no shuffles; when autograd records it is the
    /// NCHW op between reorders.
    /// </summary>
    public static Tensor MaxPool2dBlocked(Tensor input, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        (int H, int W)? dilation = null, bool ceilMode = false)
    {
        var (g, block) = BlockedPoolGeometry("max_pool2d", input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), dilation ?? (1, 1), ceilMode, average: false);
        if (GradMode.ShouldRecord(input))
            return ToChannelBlocks(MaxPool2d(FromChannelBlocks(input), kernelSize, stride, padding, dilation, ceilMode), block);
        var x = input.Contiguous();
        var y = BlockedPoolOutput(input, g, block);
        if (input.DType == DType.Float32) PoolingKernels.MaxPool2dBlocked(x.AsReadOnlyMemory<float>(), g, block, y.AsMemory<float>());
        else PoolingKernels.MaxPool2dBlocked(x.AsReadOnlyMemory<double>(), g, block, y.AsMemory<double>());
        return y;
    }

    /// <summary>
    /// <see cref="AvgPool2d(Tensor, ValueTuple{int, int}, ValueTuple{int, int}?, ValueTuple{int, int}?, bool, bool, int?)"/>
    /// on activations in the blocked-channel layout [N, C / b, H, W, b] of <see cref="Conv2dBlocked"/>: returns
    /// [N, C / b, OH, OW, b], each value avg_pool2d's on the NCHW tensor (the window summed in the same order; a 2 × 2
    /// window of four −0 gives +0 where the NCHW 2 × 2 kernel keeps −0), so that
    /// an inference chain of blocked convolutions ends in its pool without a reorder (ResNet's final 7×7 pool). When
    /// autograd records it is the NCHW op between reorders.
    /// </summary>
    public static Tensor AvgPool2dBlocked(Tensor input, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        bool countIncludePad = true, bool ceilMode = false)
    {
        var (g, block) = BlockedPoolGeometry("avg_pool2d", input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), (1, 1), ceilMode, average: true);
        if (GradMode.ShouldRecord(input))
            return ToChannelBlocks(AvgPool2d(FromChannelBlocks(input), kernelSize, stride, padding, countIncludePad, ceilMode), block);
        var x = input.Contiguous();
        var y = BlockedPoolOutput(input, g, block);
        if (input.DType == DType.Float32) PoolingKernels.AvgPool2dBlocked(x.AsReadOnlyMemory<float>(), g, block, countIncludePad, y.AsMemory<float>());
        else PoolingKernels.AvgPool2dBlocked(x.AsReadOnlyMemory<double>(), g, block, countIncludePad, y.AsMemory<double>());
        return y;
    }

    /// <summary>
    /// A blocked pool's checks and geometry: the input [N, C / b, H, W, b] validated as the NCHW pool would validate
    /// [N, C, H, W] (errors name the op and options), the planes counted per block of channels.
    /// </summary>
    private static (Pool2dGeometry Geometry, int Block) BlockedPoolGeometry(string op, Tensor input, (int H, int W) kernel, (int H, int W) stride,
        (int H, int W) padding, (int H, int W) dilation, bool ceilMode, bool average)
    {
        if (input.Rank != 5 || input.Shape[4] <= 0)
            throw new ArgumentException($"{op}: a blocked input must be [N, C / b, H, W, b], got {input.Shape}");
        CheckPoolDType(op, input);
        int block = input.Shape[4];
        var nchw = Shape.Wrap([input.Shape[0], input.Shape[1] * block, input.Shape[2], input.Shape[3]]);
        var (g, _) = PoolGeometry(op, nchw, kernel, stride, padding, dilation, ceilMode, oneD: false, average);
        return (g with { Planes = input.Shape[0] * input.Shape[1] }, block);
    }

    /// <summary>A blocked pool's output [N, C / b, OH, OW, b].</summary>
    private static Tensor BlockedPoolOutput(Tensor input, Pool2dGeometry g, int block) =>
        Tensor.Empty(Shape.Wrap([input.Shape[0], input.Shape[1], g.OutHeight, g.OutWidth, block]), input.DType);

    /// <summary>1-D max pooling of an input [N, C, L] (or [C, L]); stride defaults to the kernel size.</summary>
    public static Tensor MaxPool1d(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
    {
        var (g, shape) = PoolGeometry("max_pool1d", input, (1, kernelSize), (1, stride ?? kernelSize), (0, padding), (1, dilation), ceilMode, oneD: true, average: false);
        return input.DType == DType.Float32 ? MaxPoolCore<float>(input, g, shape) : MaxPoolCore<double>(input, g, shape);
    }

    /// <summary>
    /// 2-D average pooling of an input [N, C, H, W] (or [C, H, W]); stride defaults to the kernel size. With
    /// <paramref name="countIncludePad"/> padding zeros count in the divisor, as in PyTorch.
    /// </summary>
    /// <param name="divisorOverride">Divide every window's sum by this instead (padding and countIncludePad then do not matter).</param>
    public static Tensor AvgPool2d(Tensor input, int kernelSize, int? stride = null, int padding = 0, bool countIncludePad = true, bool ceilMode = false,
        int? divisorOverride = null) =>
        AvgPool2d(input, (kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding), countIncludePad, ceilMode, divisorOverride);

    /// <summary>2-D average pooling with separate (height, width) kernel, stride and padding.</summary>
    public static Tensor AvgPool2d(Tensor input, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        bool countIncludePad = true, bool ceilMode = false, int? divisorOverride = null)
    {
        if (divisorOverride is int d) return AvgPoolWithDivisor(input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), ceilMode, d);
        var (g, shape) = PoolGeometry("avg_pool2d", input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), (1, 1), ceilMode, oneD: false, average: true);
        return input.DType == DType.Float32 ? AvgPoolCore<float>(input, g, shape, countIncludePad) : AvgPoolCore<double>(input, g, shape, countIncludePad);
    }

    /// <summary>1-D average pooling of an input [N, C, L] (or [C, L]); stride defaults to the kernel size.</summary>
    public static Tensor AvgPool1d(Tensor input, int kernelSize, int? stride = null, int padding = 0, bool countIncludePad = true, bool ceilMode = false)
    {
        var (g, shape) = PoolGeometry("avg_pool1d", input, (1, kernelSize), (1, stride ?? kernelSize), (0, padding), (1, 1), ceilMode, oneD: true, average: true);
        return input.DType == DType.Float32 ? AvgPoolCore<float>(input, g, shape, countIncludePad) : AvgPoolCore<double>(input, g, shape, countIncludePad);
    }

    /// <summary>Average pooling of an input [..., H, W] to [..., outH, outW] with windows chosen as PyTorch does.</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, (int H, int W) outputSize)
    {
        const string op = "adaptive_avg_pool2d";
        if (input.Rank != 3 && input.Rank != 4)
            throw new ArgumentException($"{op}: expected input [N, C, H, W] or unbatched [C, H, W], got shape {input.Shape}");
        int h = input.Shape.Dims[^2], w = input.Shape.Dims[^1];
        if (outputSize.H < 1 || outputSize.W < 1)
            throw new ArgumentException($"{op}: output size ({outputSize.H}, {outputSize.W}) must be positive (input {input.Shape})");
        if (h == 0 || w == 0)
            throw new ArgumentException($"{op}: input {input.Shape} has an empty plane");
        CheckPoolDType(op, input);
        var shape = input.Shape.ToArray();
        shape[^2] = outputSize.H;
        shape[^1] = outputSize.W;
        var g = new Pool2dGeometry(input.Numel / (h * w), h, w, outputSize.H, outputSize.W, 0, 0, 0, 0, 0, 0, 0, 0);
        return input.DType == DType.Float32 ? AdaptiveAvgPoolCore<float>(input, g, Shape.Wrap(shape)) : AdaptiveAvgPoolCore<double>(input, g, Shape.Wrap(shape));
    }

    /// <summary>Adaptive average pooling to a square output.</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, int outputSize) => AdaptiveAvgPool2d(input, (outputSize, outputSize));

    private static Tensor MaxPoolCore<T>(Tensor input, Pool2dGeometry g, Shape shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Tensor x;
        using (new NoGrad()) x = input.Contiguous();
        var y = Tensor.Empty(shape, input.DType);
        if (PoolingKernels.Is2x2(g))
        {
            var codes = Tensor.Empty(shape, DType.UInt8);
            PoolingKernels.MaxPool2x2Forward(x.AsReadOnlyMemory<T>(), g, y.AsMemory<T>(), codes.AsMemory<byte>());
            return GradMode.ShouldRecord(input) ? new MaxPoolBackward<T>(input, codes, g).Attach(y) : y;
        }
        if (!GradMode.ShouldRecord(input))
        {
            PoolingKernels.MaxPool2dForward(x.AsReadOnlyMemory<T>(), g, y.AsMemory<T>());
            return y;
        }
        var indices = Tensor.Empty(shape, DType.Int32);
        PoolingKernels.MaxPool2dForward(x.AsReadOnlyMemory<T>(), g, y.AsMemory<T>(), indices.AsMemory<int>());
        return GradMode.ShouldRecord(input) ? new MaxPoolBackward<T>(input, indices, g).Attach(y) : y;
    }

    /// <summary>
    /// Scatters dy to each window's maximum, which the forward saved as an Int32 input index per window, or, for
    /// 2×2 windows with stride 2, as a byte code 2·row + column.
    /// </summary>
    private sealed class MaxPoolBackward<T> : BackwardNode where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly SavedTensor _argmax;
        private readonly Pool2dGeometry _g;
        private readonly Shape _inputShape;

        public MaxPoolBackward(Tensor input, Tensor argmax, Pool2dGeometry g) : base("max_pool2d", input)
        {
            _argmax = Save(argmax);
            _g = g;
            _inputShape = input.Shape;
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var dx = Tensor.Empty(_inputShape, gradOutput.DType);
            var dy = gradOutput.Contiguous().AsReadOnlyMemory<T>();
            if (PoolingKernels.Is2x2(_g)) PoolingKernels.MaxPool2x2Backward(dy, _argmax.Value.AsReadOnlyMemory<byte>(), _g, dx.AsMemory<T>());
            else PoolingKernels.MaxPool2dBackward(dy, _argmax.Value.AsReadOnlyMemory<int>(), _g, dx.AsMemory<T>());
            return [dx];
        }
    }

    private static Tensor AvgPoolCore<T>(Tensor input, Pool2dGeometry g, Shape shape, bool countIncludePad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Tensor x;
        using (new NoGrad()) x = input.Contiguous();
        var y = Tensor.Empty(shape, input.DType);
        if (PoolingKernels.Is2x2(g)) PoolingKernels.AvgPool2x2Forward(x.AsReadOnlyMemory<T>(), g, y.AsMemory<T>());
        else PoolingKernels.AvgPool2dForward(x.AsReadOnlyMemory<T>(), g, countIncludePad, y.AsMemory<T>());
        return GradMode.ShouldRecord(input) ? new AvgPoolBackward<T>(input, g, countIncludePad).Attach(y) : y;
    }

    private sealed class AvgPoolBackward<T>(Tensor input, Pool2dGeometry g, bool countIncludePad) : BackwardNode("avg_pool2d", input)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Shape _inputShape = input.Shape;

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var dx = Tensor.Empty(_inputShape, gradOutput.DType);
            var dy = gradOutput.Contiguous().AsReadOnlyMemory<T>();
            if (PoolingKernels.Is2x2(g)) PoolingKernels.AvgPool2x2Backward(dy, g, dx.AsMemory<T>());
            else PoolingKernels.AvgPool2dBackward(dy, g, countIncludePad, dx.AsMemory<T>());
            return [dx];
        }
    }

    private static Tensor AdaptiveAvgPoolCore<T>(Tensor input, Pool2dGeometry g, Shape shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Tensor x;
        using (new NoGrad()) x = input.Contiguous();
        var y = Tensor.Empty(shape, input.DType);
        PoolingKernels.AdaptiveAvgPool2dForward(x.AsReadOnlyMemory<T>(), g, y.AsMemory<T>());
        return GradMode.ShouldRecord(input) ? new AdaptiveAvgPoolBackward<T>(input, g).Attach(y) : y;
    }

    private sealed class AdaptiveAvgPoolBackward<T>(Tensor input, Pool2dGeometry g) : BackwardNode("adaptive_avg_pool2d", input)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Shape _inputShape = input.Shape;

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var dx = Tensor.Empty(_inputShape, gradOutput.DType);
            PoolingKernels.AdaptiveAvgPool2dBackward(gradOutput.Contiguous().AsReadOnlyMemory<T>(), g, dx.AsMemory<T>());
            return [dx];
        }
    }

    /// <summary>Validates a pooling's arguments; returns its geometry and output shape. Errors name the op, the input shape and the options.</summary>
    private static (Pool2dGeometry Geometry, Shape Output) PoolGeometry(string op, Tensor input, (int H, int W) kernel, (int H, int W) stride,
        (int H, int W) padding, (int H, int W) dilation, bool ceilMode, bool oneD, bool average)
    {
        CheckPoolDType(op, input);
        return PoolGeometry(op, input.Shape, kernel, stride, padding, dilation, ceilMode, oneD, average);
    }

    private static (Pool2dGeometry Geometry, Shape Output) PoolGeometry(string op, Shape input, (int H, int W) kernel, (int H, int W) stride,
        (int H, int W) padding, (int H, int W) dilation, bool ceilMode, bool oneD, bool average)
    {
        string Pair((int H, int W) p) => oneD ? $"{p.W}" : $"({p.H}, {p.W})";
        string Options() => $"kernel {Pair(kernel)}, stride {Pair(stride)}, padding {Pair(padding)}" + (average ? "" : $", dilation {Pair(dilation)}")
            + (ceilMode ? ", ceil mode" : "");

        int spatial = oneD ? 1 : 2;
        if (input.Rank != spatial + 1 && input.Rank != spatial + 2)
            throw new ArgumentException(oneD
                ? $"{op}: expected input [N, C, L] or unbatched [C, L], got shape {input}"
                : $"{op}: expected input [N, C, H, W] or unbatched [C, H, W], got shape {input}");
        if (kernel.H < 1 || kernel.W < 1 || stride.H < 1 || stride.W < 1 || dilation.H < 1 || dilation.W < 1 || padding.H < 0 || padding.W < 0)
            throw new ArgumentException($"{op}: invalid {Options()} for input {input} (kernel, stride and dilation must be positive, padding non-negative)");
        // A window must see at least one input element, hence PyTorch's limit of half the (dilated) kernel.
        if (padding.H > (dilation.H * (kernel.H - 1) + 1) / 2 || padding.W > (dilation.W * (kernel.W - 1) + 1) / 2)
            throw new ArgumentException($"{op}: padding should be at most half of the kernel size, got {Options()} for input {input}");

        int h = oneD ? 1 : input.Dims[^2], w = input.Dims[^1];
        if (h == 0 || w == 0)
            throw new ArgumentException($"{op}: input {input} has an empty plane");
        int oh = Pool2dGeometry.OutputSize(h, kernel.H, stride.H, padding.H, dilation.H, ceilMode);
        int ow = Pool2dGeometry.OutputSize(w, kernel.W, stride.W, padding.W, dilation.W, ceilMode);
        if (oh <= 0 || ow <= 0)
            throw new ArgumentException($"{op}: output would be empty: input {input} is smaller than the window with {Options()}");
        var shape = input.ToArray();
        if (!oneD) shape[^2] = oh;
        shape[^1] = ow;
        var g = new Pool2dGeometry(input.Numel / (h * w), h, w, oh, ow, kernel.H, kernel.W, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W);
        return (g, Shape.Wrap(shape));
    }

    private static void CheckPoolDType(string op, Tensor input)
    {
        if (!input.DType.IsFloatingPoint())
            throw new NotSupportedException($"{op}: dtype {input.DType.Name()} is not supported (float32 or float64 only), input {input.Shape}");
    }
}
