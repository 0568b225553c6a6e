namespace Loom;

// Convolutions, as torch.nn.functional (⋆ is the strided, padded, dilated cross-correlation; G groups).
//   conv2d:            y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, group(o)·C/G + c]
//                      dx = conv2d's adjoint applied to dy (col2im(Wᵀ · dy));  dW[o, c] = Σ_n dy[n, o] ⋆ x[n, c];
//                      db[o] = Σ_{n, i, j} dy[n, o, i, j]
//   conv1d:            conv2d on [N, C, 1, L] with a [OutC, C/G, 1, k] kernel.
//   conv_transpose2d:  the adjoint of conv2d: y = col2im(Wᵀ · x) + b with W [C, OutC/G, kH, kW];
//                      dx = conv2d(dy, W);  dW = conv2d's weight gradient with the roles of x and dy swapped;  db = Σ dy
// Stride 1 runs direct from padded planes (Kernels/DirectConv.cs), the rest as im2col + GEMM per image and group,
// parallel over the batch (Kernels/ConvKernels.cs chooses; see docs/notes/conv.md).
public static partial class Functional
{
    /// <summary>2-D convolution over an input [N, C, H, W] (or unbatched [C, H, W]).</summary>
    /// <remarks>Shapes: weight [OutC, C / groups, kH, kW], bias [OutC] → [N, OutC, OH, OW], OH = ⌊(H + 2p − d(kH − 1) − 1) / s⌋ + 1.</remarks>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv2d(input, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    /// <summary>2-D convolution with separate (height, width) stride, padding and dilation.</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W)? padding = null,
        (int H, int W)? dilation = null, int groups = 1)
    {
        var g = ConvGeometry("conv2d", input.Shape, weight.Shape, bias, stride, padding ?? (0, 0), dilation ?? (1, 1), (0, 0), groups, transposed: false, oneD: false);
        CheckLayerDTypes("conv2d", input, weight, bias);
        bool unbatched = input.Rank == 3;
        var result = Conv2dCore(unbatched ? input.Unsqueeze(0) : input, weight, bias, g);
        return unbatched ? result.Squeeze(0) : result;
    }

    /// <summary>
    /// activation(conv2d(input, weight, bias) + residual) as one op, the inference form of a conv–BN–ReLU block or a
    /// residual block's last convolution: the bias (and the residual) seed the output before the product accumulates
    /// onto it, and the activation runs over each image while it is in cache. Without it, each of the three is
    /// another pass over a freshly allocated activation. The values are those of the separate ops.
    /// </summary>
    /// <remarks>
    /// Shapes as <see cref="Conv2d(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}?, ValueTuple{int, int}?, int)"/>;
    /// <paramref name="residual"/>, if given, has the output's shape. When autograd records (an input requires grad),
    /// the op is the separate ops one after the other, so it differentiates as they do.
    /// </remarks>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation,
        int groups, Activation activation, Tensor? residual = null)
    {
        var g = ConvGeometry("conv2d", input.Shape, weight.Shape, bias, stride, padding, dilation, (0, 0), groups, transposed: false, oneD: false);
        CheckLayerDTypes("conv2d", input, weight, bias);
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, $"conv2d: unknown activation {activation}");
        bool unbatched = input.Rank == 3;
        var outShape = unbatched ? Shape.Wrap([g.OutChannels, g.OutHeight, g.OutWidth]) : Shape.Wrap([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth]);
        if (residual is not null && (residual.Shape != outShape || residual.DType != input.DType))
            throw new ArgumentException($"conv2d: the residual must be the output's {input.DType} {outShape}, got {residual.DType} {residual.Shape}");
        if (GradMode.ShouldRecord(input, weight, bias) || residual is not null && GradMode.ShouldRecord(residual))
        {
            var y = Conv2d(input, weight, bias, stride, padding, dilation, groups);
            return Functional.Activate(residual is null ? y : y.Add(residual), activation);
        }
        var x = unbatched ? input.Unsqueeze(0) : input;
        var result = input.DType == DType.Float32
            ? Conv2dFused<float>(x, weight, bias, residual, activation, g)
            : Conv2dFused<double>(x, weight, bias, residual, activation, g);
        return unbatched ? result.Squeeze(0) : result;
    }

    private static Tensor Conv2dFused<T>(Tensor input, Tensor weight, Tensor? bias, Tensor? residual, Activation activation, Conv2dGeometry g,
        PackedConv2dWeight? packedWeight = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.Contiguous();
        var b = bias?.Contiguous() ?? Tensor.Empty(Shape.Wrap([0]), input.DType);
        var r = residual?.Contiguous();
        var y = Tensor.Empty(Shape.Wrap([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth]), input.DType);
        ConvKernels.Conv2dForward(x.AsReadOnlyMemory<T>(), weight.Contiguous().AsReadOnlyMemory<T>(), b.AsReadOnlyMemory<T>(), g, y.AsMemory<T>(),
            r is null ? ReadOnlyMemory<T>.Empty : r.AsReadOnlyMemory<T>(), activation, packedWeight);
        return y;
    }


    /// <summary>1-D convolution over an input [N, C, L] (or unbatched [C, L]) with a weight [OutC, C / groups, k].</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        var g = ConvGeometry("conv1d", input.Shape, weight.Shape, bias, (1, stride), (0, padding), (1, dilation), (0, 0), groups, transposed: false, oneD: true);
        CheckLayerDTypes("conv1d", input, weight, bias);
        bool unbatched = input.Rank == 2;
        var x = (unbatched ? input.Unsqueeze(0) : input).Unsqueeze(2);
        var result = Conv2dCore(x, weight.Unsqueeze(2), bias, g).Squeeze(2);
        return unbatched ? result.Squeeze(0) : result;
    }

    /// <summary>
    /// 2-D transposed convolution (the adjoint of <see cref="Conv2d(Tensor, Tensor, Tensor?, int, int, int, int)"/>,
    /// sometimes called deconvolution) over an input [N, C, H, W] (or unbatched [C, H, W]).
    /// </summary>
    /// <remarks>
    /// Shapes: weight [C, OutC / groups, kH, kW], bias [OutC] → [N, OutC, OH, OW], OH = (H − 1)·s − 2p + d(kH − 1) + outputPadding + 1.
    /// </remarks>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int outputPadding = 0,
        int dilation = 1, int groups = 1) =>
        ConvTranspose2d(input, weight, bias, (stride, stride), (padding, padding), (outputPadding, outputPadding), (dilation, dilation), groups);

    /// <summary>2-D transposed convolution with separate (height, width) stride, padding, output padding and dilation.</summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W)? padding = null,
        (int H, int W)? outputPadding = null, (int H, int W)? dilation = null, int groups = 1)
    {
        var g = ConvGeometry("conv_transpose2d", input.Shape, weight.Shape, bias, stride, padding ?? (0, 0), dilation ?? (1, 1), outputPadding ?? (0, 0),
            groups, transposed: true, oneD: false);
        CheckLayerDTypes("conv_transpose2d", input, weight, bias);
        bool unbatched = input.Rank == 3;
        var x = unbatched ? input.Unsqueeze(0) : input;
        var result = input.DType == DType.Float32
            ? ConvTranspose2dCore<float>(x, weight, bias, g)
            : ConvTranspose2dCore<double>(x, weight, bias, g);
        return unbatched ? result.Squeeze(0) : result;
    }

    private static Tensor Conv2dCore(Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g) =>
        input.DType == DType.Float32 ? Conv2dCore<float>(input, weight, bias, g) : Conv2dCore<double>(input, weight, bias, g);

    private static Tensor Conv2dCore<T>(Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Tensor x, w, b;
        using (new NoGrad())
        {
            x = input.Contiguous();
            w = weight.Contiguous();
            b = bias?.Contiguous() ?? Tensor.Empty(Shape.Wrap([0]), input.DType);
        }
        var y = Tensor.Empty(Shape.Wrap([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth]), input.DType);
        ConvKernels.Conv2dForward(x.AsReadOnlyMemory<T>(), w.AsReadOnlyMemory<T>(), b.AsReadOnlyMemory<T>(), g, y.AsMemory<T>());
        return GradMode.ShouldRecord(input, weight, bias) ? new ConvBackward<T>(input, weight, bias, x, w, g, transposed: false).Attach(y) : y;
    }

    /// <summary>
    /// The backward of conv2d and of its adjoint conv_transpose2d, both described by the convolution's geometry g:
    /// transposing swaps the roles of the image and the output, so each input gradient is the other op's forward and
    /// the weight gradient correlates dy with x the other way round.
    /// </summary>
    private sealed class ConvBackward<T> : BackwardNode where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly SavedTensor? _x;
        private readonly SavedTensor? _w;
        private readonly Conv2dGeometry _g;
        private readonly bool _transposed;
        private readonly Shape _inputShape;
        private readonly Shape _weightShape;

        public ConvBackward(Tensor input, Tensor weight, Tensor? bias, Tensor x, Tensor w, Conv2dGeometry g, bool transposed)
            : base(transposed ? "conv_transpose2d" : "conv2d", input, weight, bias)
        {
            _g = g;
            _transposed = transposed;
            _inputShape = input.Shape;
            _weightShape = weight.Shape;
            if (NeedsGrad(0)) _w = Save(w);
            if (NeedsGrad(1)) _x = Save(x);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var dy = gradOutput.Contiguous();
            Tensor? dx = null, dw = null, db = null;
            if (NeedsGrad(0))
            {
                dx = Tensor.Empty(_inputShape, dy.DType);
                if (_transposed) ConvKernels.Conv2dForward(dy.AsReadOnlyMemory<T>(), _w!.Value.AsReadOnlyMemory<T>(), ReadOnlyMemory<T>.Empty, _g, dx.AsMemory<T>());
                else ConvKernels.Conv2dInputGrad(dy.AsReadOnlyMemory<T>(), _w!.Value.AsReadOnlyMemory<T>(), _g, dx.AsMemory<T>());
            }
            if (NeedsGrad(1))
            {
                dw = Tensor.Empty(_weightShape, dy.DType);
                var (image, output) = _transposed ? (dy, _x!.Value) : (_x!.Value, dy);
                ConvKernels.Conv2dWeightGrad(image.AsReadOnlyMemory<T>(), output.AsReadOnlyMemory<T>(), _g, dw.AsMemory<T>());
            }
            if (NeedsGrad(2))
            {
                var (channels, plane) = _transposed ? (_g.InChannels, _g.InPlane) : (_g.OutChannels, _g.OutPlane);
                db = Tensor.Empty(Shape.Wrap([channels]), dy.DType);
                BiasKernels.PlaneSums<T>(dy.Data<T>(), plane, db.Data<T>());
            }
            return [dx, dw, db];
        }
    }

    private static Tensor ConvTranspose2dCore<T>(Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // g describes the convolution this is the adjoint of: its "image" is our output, its output our input.
        Tensor x, w;
        using (new NoGrad())
        {
            x = input.Contiguous();
            w = weight.Contiguous();
        }
        var y = Tensor.Empty(Shape.Wrap([g.Batch, g.InChannels, g.Height, g.Width]), input.DType);
        ConvKernels.Conv2dInputGrad(x.AsReadOnlyMemory<T>(), w.AsReadOnlyMemory<T>(), g, y.AsMemory<T>());
        if (bias is not null) BiasKernels.AddPlanes<T>(bias.Contiguous().Data<T>(), g.InPlane, y.Data<T>());
        return GradMode.ShouldRecord(input, weight, bias) ? new ConvBackward<T>(input, weight, bias, x, w, g, transposed: true).Attach(y) : y;
    }

    /// <summary>
    /// Validates a convolution's arguments and returns its geometry; errors name the op and the shapes as the caller
    /// passed them. For a transposed convolution the geometry is that of the convolution it is the adjoint of.
    /// </summary>
    private static Conv2dGeometry ConvGeometry(string op, Shape input, Shape weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) dilation, (int H, int W) outputPadding, int groups, bool transposed, bool oneD)
    {
        string Pair((int H, int W) p) => oneD ? $"{p.W}" : $"({p.H}, {p.W})";
        string Options() => $"stride {Pair(stride)}, padding {Pair(padding)}, dilation {Pair(dilation)}"
            + (transposed ? $", output padding {Pair(outputPadding)}" : "") + $", groups {groups}";

        int spatial = oneD ? 1 : 2;
        if (input.Rank != spatial + 1 && input.Rank != spatial + 2)
            throw new ArgumentException(oneD
                ? $"{op}: expected input [N, C, L] or unbatched [C, L], got shape {input}"
                : $"{op}: expected input [N, C, H, W] or unbatched [C, H, W], got shape {input}");
        if (weight.Rank != spatial + 2)
            throw new ArgumentException(transposed
                ? $"{op}: weight must be {spatial + 2}-D [in_channels, out_channels / groups, {(oneD ? "k" : "kH, kW")}], got shape {weight}"
                : $"{op}: weight must be {spatial + 2}-D [out_channels, in_channels / groups, {(oneD ? "k" : "kH, kW")}], got shape {weight}");
        if (groups < 1 || stride.H < 1 || stride.W < 1 || dilation.H < 1 || dilation.W < 1 || padding.H < 0 || padding.W < 0
            || outputPadding.H < 0 || outputPadding.W < 0)
            throw new ArgumentException($"{op}: invalid {Options()} (stride, dilation and groups must be positive, padding non-negative)");

        bool batched = input.Rank == spatial + 2;
        int n = batched ? input[0] : 1, c = input[batched ? 1 : 0];
        int h = oneD ? 1 : input.Dims[^2], w = input.Dims[^1];
        int kh = oneD ? 1 : weight.Dims[^2], kw = weight.Dims[^1];

        int outChannels;
        if (!transposed)
        {
            if (c % groups != 0 || weight[1] * groups != c)
                throw new ArgumentException($"{op}: input {input} has {c} channels, but weight {weight} with groups {groups} expects {weight[1] * groups} (weight dimension 1 must be in_channels / groups)");
            if (weight[0] % groups != 0)
                throw new ArgumentException($"{op}: weight {weight} has {weight[0]} output channels, not divisible by groups {groups}");
            outChannels = weight[0];
        }
        else
        {
            if (c % groups != 0 || weight[0] != c)
                throw new ArgumentException($"{op}: input {input} has {c} channels, but weight {weight} expects {weight[0]} (weight dimension 0 must be in_channels, divisible by groups {groups})");
            if (outputPadding.H >= Math.Max(stride.H, dilation.H) || outputPadding.W >= Math.Max(stride.W, dilation.W))
                throw new ArgumentException($"{op}: output padding must be smaller than either stride or dilation, got {Options()}");
            outChannels = weight[1] * groups;
        }
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outChannels))
            throw new ArgumentException($"{op}: bias must have shape [{outChannels}] for input {input} and weight {weight}, got {bias.Shape}");

        if (!transposed)
        {
            int oh = Conv2dGeometry.OutputSize(h, kh, stride.H, padding.H, dilation.H);
            int ow = Conv2dGeometry.OutputSize(w, kw, stride.W, padding.W, dilation.W);
            if (oh <= 0 || ow <= 0)
                throw new ArgumentException($"{op}: output would be empty: input {input} is smaller than the dilated kernel of weight {weight} with {Options()}");
            return new Conv2dGeometry(n, c, h, w, outChannels, oh, ow, kh, kw, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, groups);
        }
        else
        {
            long oh = (long)(h - 1) * stride.H - 2L * padding.H + (long)dilation.H * (kh - 1) + outputPadding.H + 1;
            long ow = (long)(w - 1) * stride.W - 2L * padding.W + (long)dilation.W * (kw - 1) + outputPadding.W + 1;
            if (h == 0 || w == 0 || oh <= 0 || ow <= 0)
                throw new ArgumentException($"{op}: output would be empty ({(oneD ? $"{ow}" : $"{oh}x{ow}")}) for input {input} and weight {weight} with {Options()}");
            return new Conv2dGeometry(n, outChannels, (int)oh, (int)ow, c, h, w, kh, kw, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, groups);
        }
    }
}
