namespace Loom;

public static partial class Functional
{
    /// <summary>
    /// The fused convolution <see cref="Conv2d(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, int, Activation, Tensor?)"/>
    /// with a weight packed ahead of time (<see cref="PackedConv2dWeight"/>): the same values, without packing the
    /// weights on every call. When autograd records, it is the unpacked op on <see cref="PackedConv2dWeight.Weight"/>.
    /// </summary>
    public static Tensor Conv2d(Tensor input, PackedConv2dWeight weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation,
        Activation activation = Activation.None, Tensor? residual = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var w = weight.Weight;
        if (input.DType != w.DType || input.Rank != 4 || GradMode.ShouldRecord(input, w, bias) || residual is not null && GradMode.ShouldRecord(residual))
            return Conv2d(input, w, bias, stride, padding, dilation, weight.Groups, activation, residual);
        var g = ConvGeometry("conv2d", input.Shape, w.Shape, bias, stride, padding, dilation, (0, 0), weight.Groups, transposed: false, oneD: false);
        CheckLayerDTypes("conv2d", input, w, bias);
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, $"conv2d: unknown activation {activation}");
        var outShape = Shape.Wrap([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth]);
        if (residual is not null && (residual.Shape != outShape || residual.DType != input.DType))
            throw new ArgumentException($"conv2d: the residual must be the output's {input.DType} {outShape}, got {residual.DType} {residual.Shape}");
        return input.DType == DType.Float32
            ? Conv2dFused<float>(input, w, bias, residual, activation, g, weight)
            : Conv2dFused<double>(input, w, bias, residual, activation, g, weight);
    }

    /// <summary>
    /// Channels per block of the layout <see cref="Conv2dBlocked"/> runs fastest on for <paramref name="dtype"/> on this
    /// machine (one SIMD vector: 16 float32 or 8 float64 with AVX-512), or 0 where no kernel reads that layout.
    /// </summary>
    public static int Conv2dChannelBlock(DType dtype) => dtype switch
    {
        DType.Float32 when DirectConv<float>.IsSupported => Vector512<float>.Count,
        DType.Float64 when DirectConv<double>.IsSupported => Vector512<double>.Count,
        _ => 0,
    };

    /// <summary>
    /// The fused convolution with a packed weight on activations kept in the blocked-channel layout [N, C / b, H, W, b]
    /// (b = the input's last dimension; ONNX Runtime's NCHWc): returns relu?(conv2d(x, weight) + bias + residual) as
    /// [N, OutC / b, OH, OW, b], the residual given in that layout too. A chain of such convolutions reorders its
    /// activations once, not around every convolution. With b = <see cref="Conv2dChannelBlock"/> and whole blocks of
    /// channels in every group, stride 1 or 2, the direct kernel reads and writes that layout; otherwise (and when
    /// autograd records) it is <see cref="Conv2d(Tensor, PackedConv2dWeight, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, Activation, Tensor?)"/>
    /// between reorders. The same values as that convolution on the NCHW tensors, except where a float 3×3 stride-1
    /// convolution runs by Winograd F(2×2, 3×3) (wide layers on AVX-512, ReLU or no activation; see
    /// <see cref="PackedConv2dWeight.AllowWinograd"/>): then within float32 rounding of them, not bit-equal.
    /// </summary>
    public static Tensor Conv2dBlocked(Tensor input, PackedConv2dWeight weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) dilation, Activation activation = Activation.None, Tensor? residual = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 5 || input.Shape[4] <= 0)
            throw new ArgumentException($"conv2d: a blocked input must be [N, C / b, H, W, b], got {input.Shape}");
        int block = input.Shape[4];
        var nchw = Shape.Wrap([input.Shape[0], input.Shape[1] * block, input.Shape[2], input.Shape[3]]);
        return BlockedConv(input, nchw, blockedInput: true, weight, bias, stride, padding, dilation, block, activation, residual);
    }

    /// <summary>
    /// The fused convolution with a packed weight from an NCHW input [N, C, H, W] into the blocked-channel layout of
    /// <paramref name="block"/> channels: returns relu?(conv2d(x, weight) + bias + residual) as [N, OutC / b, OH, OW, b],
    /// the residual given in that layout. Where a chain of <see cref="Conv2dBlocked"/> starts at a convolution whose
    /// input cannot be blocked (ResNet's 3-channel stem): no reorder of its output. With b = <see cref="Conv2dChannelBlock"/>
    /// and whole blocks of output channels per group the direct kernel writes the blocks; otherwise (and when autograd
    /// records) the NCHW convolution, then a reorder. The same values as that convolution either way.
    /// </summary>
    public static Tensor Conv2dIntoBlocks(Tensor input, PackedConv2dWeight weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) dilation, int block, Activation activation = Activation.None, Tensor? residual = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 4) throw new ArgumentException($"conv2d: expects an input [N, C, H, W], got {input.Shape}");
        return BlockedConv(input, input.Shape, blockedInput: false, weight, bias, stride, padding, dilation, block, activation, residual);
    }

    /// <summary>
    /// <see cref="Conv2dBlocked"/> (<paramref name="blockedInput"/>) or <see cref="Conv2dIntoBlocks"/> on an input of NCHW
    /// shape <paramref name="nchw"/>: checks the operands, then the direct kernel where it applies, else the NCHW
    /// convolution between reorders.
    /// </summary>
    private static Tensor BlockedConv(Tensor input, Shape nchw, bool blockedInput, PackedConv2dWeight weight, Tensor? bias, (int H, int W) stride,
        (int H, int W) padding, (int H, int W) dilation, int block, Activation activation, Tensor? residual)
    {
        var w = weight.Weight;
        if (block <= 0 || w.Shape[0] % block != 0)
            throw new ArgumentException($"conv2d: {w.Shape[0]} output channels do not fill blocks of {block}");
        var g = ConvGeometry("conv2d", nchw, w.Shape, bias, stride, padding, dilation, (0, 0), weight.Groups, transposed: false, oneD: false);
        CheckLayerDTypes("conv2d", input, w, bias);
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, $"conv2d: unknown activation {activation}");
        var outShape = Shape.Wrap([g.Batch, g.OutChannels / block, g.OutHeight, g.OutWidth, block]);
        if (residual is not null && (residual.Shape != outShape || residual.DType != input.DType))
            throw new ArgumentException($"conv2d: the residual must be the output's {input.DType} {outShape}, got {residual.DType} {residual.Shape}");
        bool applies = input.DType == DType.Float32
            ? blockedInput ? DirectConv<float>.AppliesBlockedLayout(g) : DirectConv<float>.AppliesBlockedOutput(g)
            : blockedInput ? DirectConv<double>.AppliesBlockedLayout(g) : DirectConv<double>.AppliesBlockedOutput(g);
        bool direct = applies && block == Conv2dChannelBlock(input.DType) && ConvKernels.ForcedAlgorithm != ConvAlgorithm.Im2col
            && !GradMode.ShouldRecord(input, w, bias) && (residual is null || !GradMode.ShouldRecord(residual));
        if (!direct)
        {
            var y = Conv2d(blockedInput ? FromChannelBlocks(input) : input, weight, bias, stride, padding, dilation, activation,
                residual is null ? null : FromChannelBlocks(residual));
            return ToChannelBlocks(y, block);
        }
        if (input.DType == DType.Float32 && activation is Activation.None or Activation.Relu && weight.AllowWinograd && WinogradConv.Chooses(g))
        {
            // 3×3 stride 1 by Winograd F(2×2, 3×3): 2.25× fewer multiply-adds, outputs rounded differently (see the kernel).
            var x = input.Contiguous();
            var r = residual?.Contiguous();
            var y = Tensor.Empty(outShape, DType.Float32);
            WinogradConv.Forward(x.AsReadOnlyMemory<float>(), weight.WinogradWeights(), bias?.Contiguous().AsReadOnlyMemory<float>() ?? default, g,
                y.AsMemory<float>(), r is null ? ReadOnlyMemory<float>.Empty : r.AsReadOnlyMemory<float>(), activation == Activation.Relu);
            return y;
        }
        return input.DType == DType.Float32
            ? Conv2dBlocked<float>(input, weight, bias, residual, activation, g, outShape, blockedInput)
            : Conv2dBlocked<double>(input, weight, bias, residual, activation, g, outShape, blockedInput);
    }

    private static Tensor Conv2dBlocked<T>(Tensor input, PackedConv2dWeight weight, Tensor? bias, Tensor? residual, Activation activation,
        Conv2dGeometry g, Shape outShape, bool blockedInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.Contiguous();
        var b = bias?.Contiguous() ?? Tensor.Empty(Shape.Wrap([0]), input.DType);
        var r = residual?.Contiguous();
        var y = Tensor.Empty(outShape, input.DType);
        DirectConv<T>.ForwardPacked(x.AsReadOnlyMemory<T>(), weight.Direct<T>(), b.AsReadOnlyMemory<T>(), g, y.AsMemory<T>(),
            r is null ? ReadOnlyMemory<T>.Empty : r.AsReadOnlyMemory<T>(), activation, blockedInput, blockedOutput: true);
        return y;
    }

    /// <summary>
    /// [N, C, H, W] → [N, C / b, H, W, b], the layout of <see cref="Conv2dBlocked"/>: channel c of pixel (h, w) at
    /// [n, c / b, h, w, c mod b]. A copy (a view's permutation made contiguous), differentiable.
    /// </summary>
    public static Tensor ToChannelBlocks(Tensor x, int block)
    {
        if (x.Rank != 4 || block <= 0 || x.Shape[1] % block != 0)
            throw new ArgumentException($"to_channel_blocks: expects [N, C, H, W] with C a multiple of the block {block}, got {x.Shape}");
        if (x.DType == DType.Float32 && block == 16 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported && !GradMode.ShouldRecord(x))
        {
            // The plan's reorder where a chain of blocked convolutions starts: transposed in registers.
            var planes = x.Contiguous();
            var y = Tensor.Empty(Shape.Wrap([x.Shape[0], x.Shape[1] / block, x.Shape[2], x.Shape[3], block]), DType.Float32);
            DirectConv<float>.ToBlocks(planes.AsReadOnlyMemory<float>(), x.Shape[0] * x.Shape[1] / block, x.Shape[2] * x.Shape[3], y.AsMemory<float>());
            return y;
        }
        return x.Reshape(x.Shape[0], x.Shape[1] / block, block, x.Shape[2], x.Shape[3]).Permute(0, 1, 3, 4, 2).Contiguous();
    }

    /// <summary>[N, C / b, H, W, b] → [N, C, H, W], the inverse of <see cref="ToChannelBlocks"/>.</summary>
    public static Tensor FromChannelBlocks(Tensor x)
    {
        if (x.Rank != 5) throw new ArgumentException($"from_channel_blocks: expects [N, C / b, H, W, b], got {x.Shape}");
        return x.Permute(0, 1, 4, 2, 3).Reshape(x.Shape[0], x.Shape[1] * x.Shape[4], x.Shape[2], x.Shape[3]);
    }
}
