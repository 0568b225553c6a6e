namespace Loom.Kernels;

/// <summary>
/// The shape of one 2-D convolution: a batch of images [InChannels, Height, Width] becomes outputs
/// [OutChannels, OutHeight, OutWidth] through a kernel [OutChannels, InChannels / Groups, KernelH, KernelW].
/// A transposed convolution is described by the convolution it is the adjoint of (its output is this "image").
/// </summary>
internal readonly record struct Conv2dGeometry(
    int Batch, int InChannels, int Height, int Width,
    int OutChannels, int OutHeight, int OutWidth,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW, int Groups)
{
    public int InPerGroup => InChannels / Groups;

    public int OutPerGroup => OutChannels / Groups;

    /// <summary>Rows of the column matrix of one group: one per (input channel, kernel row, kernel column).</summary>
    public int ColumnRows => InPerGroup * KernelH * KernelW;

    /// <summary>Columns of the column matrix: one per output position.</summary>
    public int OutPlane => OutHeight * OutWidth;

    public int InPlane => Height * Width;

    public int ImageSize => InChannels * InPlane;

    public int OutImageSize => OutChannels * OutPlane;

    public int WeightSize => OutChannels * ColumnRows;

    /// <summary>A 1×1 kernel with unit stride and no padding: the image already is the column matrix, no im2col needed.</summary>
    public bool IsPointwise => KernelH == 1 && KernelW == 1 && StrideH == 1 && StrideW == 1 && PadH == 0 && PadW == 0;

    /// <summary>Multiply-adds of one image's convolution.</summary>
    public long MacsPerImage => (long)OutChannels * OutPlane * ColumnRows;

    /// <summary>Output size along one axis: ⌊(in + 2·pad − dilation·(kernel − 1) − 1) / stride⌋ + 1 (may be ≤ 0 when the kernel does not fit).</summary>
    public static int OutputSize(int input, int kernel, int stride, int pad, int dilation)
    {
        long span = (long)input + 2L * pad - (long)dilation * (kernel - 1) - 1;
        return span < 0 ? 0 : (int)(span / stride + 1);
    }
}

/// <summary>
/// Convolution as GEMM. im2col unfolds the receptive fields of one image group into a [C·kH·kW, outH·outW] matrix so
/// that the convolution is W [outC, C·kH·kW] · columns; col2im folds such a matrix back, adding overlaps, which makes
/// it the adjoint used for input gradients (and for transposed convolution). Drivers loop over images in parallel,
/// each thread with its own pooled column buffer. Stride-1 and stride-2 shapes go to <see cref="DirectConv{T}"/> instead
/// (see <see cref="UseDirect{T}"/>; the input gradient of a stride-2 convolution stays here).
/// </summary>
internal static class ConvKernels
{
    // Images below this many multiply-adds per thread stay on one thread.
    private const long ParallelMacs = 1 << 17;

    /// <summary>
    /// Forces one algorithm regardless of the shape (for tests and benchmarks); <see cref="ConvAlgorithm.Auto"/> chooses.
    /// Per calling thread, so that tests running in parallel cannot change each other's choice; the choice is made on
    /// the calling thread before any work is split.
    /// </summary>
    public static ConvAlgorithm ForcedAlgorithm
    {
        get => _forcedAlgorithm;
        set => _forcedAlgorithm = value;
    }

    [ThreadStatic]
    private static ConvAlgorithm _forcedAlgorithm;

    // Above this many bytes of one group's weights, im2col + GEMM beats the direct kernels (see UseDirect).
    private const long DirectWeightBytes = 1 << 20;

    /// <summary>
    /// Whether the direct kernels (<see cref="DirectConv{T}"/>) compute this convolution rather than im2col + GEMM. They
    /// take strides 1 and 2 (the input gradient stride 1 only). The forward and input-gradient kernels share one image's tiles among threads when there are
    /// fewer images than threads; the weight gradient parallelises over images only, so a batch smaller than the thread
    /// count leaves it to GEMM, which can split one image's product. Nor do they suit wide layers: every grid tile
    /// streams the whole weight tensor, one 8-channel cache line per tap, so once the weights leave L2 GEMM's packed
    /// panels win (ResNet18 at batch 1, one thread: 512 → 512 3×3 on 7×7 took 21 ms direct against 3.9 ms by GEMM,
    /// 256 → 256 on 14×14 6.3 against 2.9; 128 → 128 on 28×28, 0.6 MB of weights, is still even). Weights packed ahead
    /// of time in the direct kernel's blocked layout (a <see cref="PackedConv2dWeight"/>) lift that limit, and the
    /// stride-1 one (Conv2dForward): each block of output channels then stays in cache across the grid (ResNet18, one
    /// thread: 512 → 512 at 7×7 1.9 ms direct against 2.7 by GEMM from prepacked panels; 256 → 256 at 14×14 1.45
    /// against 2.0).
    /// </summary>
    private static bool UseDirect<T>(in Conv2dGeometry g, bool inputGrad, bool weightGrad = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool applies = inputGrad ? DirectConv<T>.AppliesToInputGrad(g) : DirectConv<T>.Applies(g);
        return ForcedAlgorithm switch
        {
            ConvAlgorithm.Im2col => false,
            ConvAlgorithm.Direct or ConvAlgorithm.Winograd => applies,
            _ => applies && (long)g.OutPerGroup * g.ColumnRows * Unsafe.SizeOf<T>() <= DirectWeightBytes
                && (!weightGrad || g.Batch >= Threads.Count || g.MacsPerImage * g.Batch < 2 * ParallelMacs * Threads.Count),
        };
    }

    /// <summary>
    /// Unfolds one group of an image, <paramref name="image"/> [InPerGroup, Height, Width], into
    /// <paramref name="columns"/> [InPerGroup·kH·kW, OutHeight·OutWidth]; positions in the padding read zero.
    /// </summary>
    public static void Im2col<T>(ReadOnlySpan<T> image, in Conv2dGeometry g, Span<T> columns) where T : unmanaged =>
        Im2col(image, g, columns, 0, g.InPerGroup);

    /// <summary>The rows of <see cref="Im2col{T}(ReadOnlySpan{T}, in Conv2dGeometry, Span{T})"/> that come from channels [first, end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Im2col<T>(ReadOnlySpan<T> image, in Conv2dGeometry g, Span<T> columns, int first, int end) where T : unmanaged
    {
        int outPlane = g.OutPlane;
        for (int c = first; c < end; c++)
        {
            var plane = image.Slice(c * g.InPlane, g.InPlane);
            for (int ki = 0; ki < g.KernelH; ki++)
            {
                for (int kj = 0; kj < g.KernelW; kj++)
                {
                    var dst = columns.Slice(((c * g.KernelH + ki) * g.KernelW + kj) * outPlane, outPlane);
                    int iw0 = kj * g.DilationW - g.PadW;
                    var (owStart, owEnd) = ValidRange(iw0, g.StrideW, g.Width, g.OutWidth);
                    for (int oh = 0; oh < g.OutHeight; oh++)
                    {
                        var row = dst.Slice(oh * g.OutWidth, g.OutWidth);
                        int ih = oh * g.StrideH - g.PadH + ki * g.DilationH;
                        if ((uint)ih >= (uint)g.Height)
                        {
                            row.Clear();
                            continue;
                        }
                        var src = plane.Slice(ih * g.Width, g.Width);
                        row[..owStart].Clear();
                        row[owEnd..].Clear();
                        if (g.StrideW == 1)
                        {
                            src.Slice(owStart + iw0, owEnd - owStart).CopyTo(row[owStart..owEnd]);
                        }
                        else
                        {
                            for (int ow = owStart, iw = owStart * g.StrideW + iw0; ow < owEnd; ow++, iw += g.StrideW) row[ow] = src[iw];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The adjoint of <see cref="Im2col{T}(ReadOnlySpan{T}, in Conv2dGeometry, Span{T})"/>: adds each entry of <paramref name="columns"/> into the image position it was
    /// read from. <paramref name="image"/> is accumulated into, not overwritten; padding positions are dropped.
    /// </summary>
    public static void Col2im<T>(ReadOnlySpan<T> columns, in Conv2dGeometry g, Span<T> image) where T : unmanaged, IFloatingPointIeee754<T> =>
        Col2im(columns, g, image, 0, g.InPerGroup);

    /// <summary>The part of <see cref="Col2im{T}(ReadOnlySpan{T}, in Conv2dGeometry, Span{T})"/> that lands in channels [first, end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Col2im<T>(ReadOnlySpan<T> columns, in Conv2dGeometry g, Span<T> image, int first, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outPlane = g.OutPlane;
        for (int c = first; c < end; c++)
        {
            var plane = image.Slice(c * g.InPlane, g.InPlane);
            for (int ki = 0; ki < g.KernelH; ki++)
            {
                for (int kj = 0; kj < g.KernelW; kj++)
                {
                    var src = columns.Slice(((c * g.KernelH + ki) * g.KernelW + kj) * outPlane, outPlane);
                    int iw0 = kj * g.DilationW - g.PadW;
                    var (owStart, owEnd) = ValidRange(iw0, g.StrideW, g.Width, g.OutWidth);
                    if (owStart >= owEnd) continue;
                    for (int oh = 0; oh < g.OutHeight; oh++)
                    {
                        int ih = oh * g.StrideH - g.PadH + ki * g.DilationH;
                        if ((uint)ih >= (uint)g.Height) continue;
                        var row = src.Slice(oh * g.OutWidth, g.OutWidth);
                        var dst = plane.Slice(ih * g.Width, g.Width);
                        if (g.StrideW == 1)
                        {
                            var d = dst.Slice(owStart + iw0, owEnd - owStart);
                            TensorPrimitives.Add(d, row[owStart..owEnd], d);
                        }
                        else
                        {
                            for (int ow = owStart, iw = owStart * g.StrideW + iw0; ow < owEnd; ow++, iw += g.StrideW) dst[iw] += row[ow];
                        }
                    }
                }
            }
        }
    }

    // Below this many column elements per thread, im2col and col2im of one image stay on one thread.
    private const int ParallelElements = 1 << 16;

    /// <summary>
    /// im2col of one image group, split over channels when <paramref name="parallel"/>: a batch too small to keep every
    /// thread busy (inference at batch 1) would otherwise unfold on one thread while GEMM runs on all.
    /// </summary>
    private static void Unfold<T>(ReadOnlyMemory<T> image, Conv2dGeometry g, Memory<T> columns, bool parallel) where T : unmanaged
    {
        int perChannel = g.KernelH * g.KernelW * g.OutPlane;
        if (!parallel || g.InPerGroup * perChannel < 2 * ParallelElements)
        {
            Im2col(image.Span, g, columns.Span);
            return;
        }
        ParallelHelper.For(g.InPerGroup, Math.Max(1, ParallelElements / perChannel), (first, end) => Im2col(image.Span, g, columns.Span, first, end));
    }

    /// <summary>col2im of one image group (accumulating into <paramref name="image"/>), split over channels when <paramref name="parallel"/>.</summary>
    private static void Fold<T>(ReadOnlyMemory<T> columns, Conv2dGeometry g, Memory<T> image, bool parallel) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int perChannel = g.KernelH * g.KernelW * g.OutPlane;
        if (!parallel || g.InPerGroup * perChannel < 2 * ParallelElements)
        {
            Col2im(columns.Span, g, image.Span);
            return;
        }
        ParallelHelper.For(g.InPerGroup, Math.Max(1, ParallelElements / perChannel), (first, end) => Col2im(columns.Span, g, image.Span, first, end));
    }

    // Output columns ow in [start, end) read input column ow·stride + iw0 inside [0, width).
    private static (int Start, int End) ValidRange(int iw0, int stride, int width, int outWidth)
    {
        int start = iw0 >= 0 ? 0 : (-iw0 + stride - 1) / stride;
        int last = width - 1 - iw0;
        int end = last < 0 ? 0 : last / stride + 1;
        start = Math.Min(start, outWidth);
        end = Math.Clamp(end, start, outWidth);
        return (start, end);
    }

    /// <summary>
    /// output = activation(conv2d(input, weight) + bias + residual) for a batch: per image and group, W_g · im2col(x_g)
    /// by GEMM, accumulated onto the bias planes (plus the residual). <paramref name="bias"/> and
    /// <paramref name="residual"/> are empty for none. Overwrites <paramref name="output"/> [Batch, OutChannels, OutHeight, OutWidth].
    /// <paramref name="packed"/>, if given, is the same weight packed ahead of time (for the direct kernel's blocked
    /// layout or GEMM's panels, whichever runs), so that no call re-packs or transposes it; the direct kernel then takes
    /// any weight size, since it no longer streams wide weights with a stride.
    /// </summary>
    public static void Conv2dForward<T>(ReadOnlyMemory<T> input, ReadOnlyMemory<T> weight, ReadOnlyMemory<T> bias, Conv2dGeometry g, Memory<T> output,
        ReadOnlyMemory<T> residual = default, Activation activation = Activation.None, PackedConv2dWeight? packed = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (packed is not null && (packed.Groups != g.Groups || packed.Weight.Shape != Shape.Wrap([g.OutChannels, g.InPerGroup, g.KernelH, g.KernelW])))
            throw new ArgumentException($"conv2d: the packed weight {packed.Weight.Shape} in {packed.Groups} groups does not match [{g.OutChannels}, {g.InPerGroup}, {g.KernelH}, {g.KernelW}] in {g.Groups}");
        // A strided 1×1 kernel stores one phase of four (a subsampling copy), then runs as a pointwise convolution.
        if (packed is not null && ForcedAlgorithm != ConvAlgorithm.Im2col && DirectConv<T>.AppliesPacked(g))
        {
            DirectConv<T>.ForwardPacked(input, packed.Direct<T>(), bias, g, output, residual, activation);
            return;
        }
        if (UseDirect<T>(g, inputGrad: false))
        {
            DirectConv<T>.Forward(input, weight, bias, g, output, residual, activation);
            return;
        }
        // One output position makes each product a matrix-vector one, which GEMM computes from the unpacked weights.
        var packedWeight = packed is not null && g.OutPlane >= 2 ? packed.Gemm<T>() : null;
        bool hasBias = !bias.IsEmpty, hasResidual = !residual.IsEmpty;
        int groupImage = g.InPerGroup * g.InPlane, columnSize = g.ColumnRows * g.OutPlane;
        ParallelHelper.For(g.Batch, BatchGrain(g), (start, end) =>
        {
            bool alone = start == 0 && end == g.Batch; // no parallelism over images: spread im2col instead
            T[]? columns = g.IsPointwise ? null : ArrayPool<T>.Shared.Rent(columnSize);
            try
            {
                for (int n = start; n < end; n++)
                {
                    var y = output.Span.Slice(n * g.OutImageSize, g.OutImageSize);
                    if (hasResidual) Seed(residual.Span.Slice(n * g.OutImageSize, g.OutImageSize), bias.Span, g.OutPlane, y);
                    else if (hasBias) BiasKernels.FillPlanes(bias.Span, g.OutPlane, y);
                    for (int grp = 0; grp < g.Groups; grp++)
                    {
                        var xg = input.Slice(n * g.ImageSize + grp * groupImage, groupImage);
                        if (columns is not null) Unfold(xg, g, columns.AsMemory(0, columnSize), alone);
                        if (packedWeight is not null)
                        {
                            packedWeight[grp].Multiply(g.OutPlane, columns is null ? xg.Span : columns.AsSpan(0, columnSize), g.OutPlane,
                                hasBias || hasResidual, y.Slice(grp * g.OutPerGroup * g.OutPlane, g.OutPerGroup * g.OutPlane), g.OutPlane);
                            continue;
                        }
                        TypedGemm.Run(false, false, g.OutPerGroup, g.OutPlane, g.ColumnRows,
                            weight.Span.Slice(grp * g.OutPerGroup * g.ColumnRows, g.OutPerGroup * g.ColumnRows), g.ColumnRows,
                            columns is null ? xg.Span : columns.AsSpan(0, columnSize), g.OutPlane,
                            hasBias || hasResidual, y.Slice(grp * g.OutPerGroup * g.OutPlane, g.OutPerGroup * g.OutPlane), g.OutPlane);
                    }
                    if (activation != Activation.None) GemmEpilogue.Activate<T>(y, y, activation);
                }
            }
            finally
            {
                if (columns is not null) ArrayPool<T>.Shared.Return(columns);
            }
        });
    }

    /// <summary>destination = residual + bias[c] over each channel plane c (residual alone when there is no bias): the seed the GEMM accumulates onto.</summary>
    private static void Seed<T>(ReadOnlySpan<T> residual, ReadOnlySpan<T> bias, int plane, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (bias.IsEmpty)
        {
            residual.CopyTo(destination);
            return;
        }
        for (int c = 0; c < bias.Length; c++)
            TensorPrimitives.Add(residual.Slice(c * plane, plane), bias[c], destination.Slice(c * plane, plane));
    }

    /// <summary>
    /// gradInput = the adjoint of conv2d applied to <paramref name="gradOutput"/>: col2im(W_gᵀ · dy_g) per image and
    /// group. This is conv2d's input gradient and conv_transpose2d's forward. Overwrites <paramref name="gradInput"/>.
    /// </summary>
    public static void Conv2dInputGrad<T>(ReadOnlyMemory<T> gradOutput, ReadOnlyMemory<T> weight, Conv2dGeometry g, Memory<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (UseDirect<T>(g, inputGrad: true))
        {
            DirectConv<T>.InputGrad(gradOutput, weight, g, gradInput);
            return;
        }
        int groupImage = g.InPerGroup * g.InPlane, columnSize = g.ColumnRows * g.OutPlane;
        ParallelHelper.For(g.Batch, BatchGrain(g), (start, end) =>
        {
            bool alone = start == 0 && end == g.Batch; // no parallelism over images: spread col2im instead
            T[]? columns = g.IsPointwise ? null : ArrayPool<T>.Shared.Rent(columnSize);
            try
            {
                for (int n = start; n < end; n++)
                {
                    var dy = gradOutput.Span.Slice(n * g.OutImageSize, g.OutImageSize);
                    if (columns is not null) gradInput.Span.Slice(n * g.ImageSize, g.ImageSize).Clear();
                    for (int grp = 0; grp < g.Groups; grp++)
                    {
                        var dxg = gradInput.Slice(n * g.ImageSize + grp * groupImage, groupImage);
                        // A 1×1 kernel's column matrix is the image itself: the GEMM writes the gradient directly.
                        TypedGemm.Run(true, false, g.ColumnRows, g.OutPlane, g.OutPerGroup,
                            weight.Span.Slice(grp * g.OutPerGroup * g.ColumnRows, g.OutPerGroup * g.ColumnRows), g.ColumnRows,
                            dy.Slice(grp * g.OutPerGroup * g.OutPlane, g.OutPerGroup * g.OutPlane), g.OutPlane,
                            false, columns is null ? dxg.Span : columns.AsSpan(0, columnSize), g.OutPlane);
                        if (columns is not null) Fold<T>(columns.AsMemory(0, columnSize), g, dxg, alone);
                    }
                }
            }
            finally
            {
                if (columns is not null) ArrayPool<T>.Shared.Return(columns);
            }
        });
    }

    /// <summary>
    /// gradWeight = Σ_images dy_g · im2col(x_g)ᵀ per group, the weight gradient of conv2d (and, with input and output
    /// swapped, of conv_transpose2d). Threads sum into private buffers that are added up in batch order at the end. Overwrites
    /// <paramref name="gradWeight"/> [OutChannels, InPerGroup, kH, kW].
    /// </summary>
    public static void Conv2dWeightGrad<T>(ReadOnlyMemory<T> input, ReadOnlyMemory<T> gradOutput, Conv2dGeometry g, Memory<T> gradWeight)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (UseDirect<T>(g, inputGrad: false, weightGrad: true))
        {
            DirectConv<T>.WeightGrad(input, gradOutput, g, gradWeight);
            return;
        }
        gradWeight.Span.Clear();
        int groupImage = g.InPerGroup * g.InPlane, columnSize = g.ColumnRows * g.OutPlane;
        var sums = new OrderedSums<T>(g.WeightSize);
        ParallelHelper.For(g.Batch, BatchGrain(g), (start, end) =>
        {
            // A thread that has the whole batch writes the result directly; otherwise it sums privately first.
            bool alone = start == 0 && end == g.Batch;
            T[]? columns = g.IsPointwise ? null : ArrayPool<T>.Shared.Rent(columnSize);
            try
            {
                var dw = alone ? gradWeight.Span : sums.Rent(start);
                for (int n = start; n < end; n++)
                {
                    var dy = gradOutput.Span.Slice(n * g.OutImageSize, g.OutImageSize);
                    for (int grp = 0; grp < g.Groups; grp++)
                    {
                        var xg = input.Slice(n * g.ImageSize + grp * groupImage, groupImage);
                        if (columns is not null) Unfold(xg, g, columns.AsMemory(0, columnSize), alone);
                        TypedGemm.Run(false, true, g.OutPerGroup, g.ColumnRows, g.OutPlane,
                            dy.Slice(grp * g.OutPerGroup * g.OutPlane, g.OutPerGroup * g.OutPlane), g.OutPlane,
                            columns is null ? xg.Span : columns.AsSpan(0, columnSize), g.OutPlane,
                            true, dw.Slice(grp * g.OutPerGroup * g.ColumnRows, g.OutPerGroup * g.ColumnRows), g.ColumnRows);
                    }
                }
            }
            finally
            {
                if (columns is not null) ArrayPool<T>.Shared.Return(columns);
            }
        });
        sums.AddInto(gradWeight.Span);
    }

    private static int BatchGrain(in Conv2dGeometry g) => (int)Math.Clamp(ParallelMacs / Math.Max(1, g.MacsPerImage), 1, int.MaxValue);
}
