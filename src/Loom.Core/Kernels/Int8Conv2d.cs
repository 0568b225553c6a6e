using System.Buffers;

namespace Loom.Kernels;

/// <summary>The shape of one 2-D convolution over u8 images [C, H, W] (no groups).</summary>
public readonly record struct Int8ConvGeometry(int Channels, int Height, int Width, int KernelH, int KernelW,
    int StrideH = 1, int StrideW = 1, int PadH = 0, int PadW = 0, int DilationH = 1, int DilationW = 1)
{
    public int OutHeight => Conv2dGeometry.OutputSize(Height, KernelH, StrideH, PadH, DilationH);
    public int OutWidth => Conv2dGeometry.OutputSize(Width, KernelW, StrideW, PadW, DilationW);

    /// <summary>Output positions per image (rows of the im2col matrix).</summary>
    public int Positions => OutHeight * OutWidth;

    /// <summary>C·kH·kW: the depth of the product, in the order of a [out, C, kH, kW] weight's rows.</summary>
    public int Depth => Channels * KernelH * KernelW;

    internal void Check()
    {
        if (Channels <= 0 || Height <= 0 || Width <= 0 || KernelH <= 0 || KernelW <= 0 || StrideH <= 0 || StrideW <= 0
            || PadH < 0 || PadW < 0 || DilationH <= 0 || DilationW <= 0)
            throw new ArgumentException($"int8 conv: invalid geometry {this}");
        if (OutHeight <= 0 || OutWidth <= 0)
            throw new ArgumentException($"int8 conv: a {KernelH}×{KernelW} kernel does not fit a {Height}×{Width} image with padding ({PadH}, {PadW})");
    }
}

/// <summary>
/// Quantised 2-D convolution for static int8 inference: u8 images (per-tensor scale and zero point) against int8
/// weights [out, C, kH, kW] (symmetric, one scale per output channel), lowered to <see cref="Int8Gemm"/> through im2col,
/// int32 accumulation, and an epilogue that either dequantises to float or requantises to u8 for the next layer
/// (fused: the int32 sums never reach memory). Every <see cref="Int8GemmPath"/> serves it, forced as for the GEMM.
/// </summary>
/// <remarks>
/// The im2col matrix has one row per output position of every image (m = N·OH·OW, so one GEMM covers the batch and
/// threads split its columns) and is padded with the input's zero point: a padded position is real 0, as a float
/// convolution's zero padding. The GEMM's [position, channel] result is transposed into NCHW.
/// </remarks>
public static class Int8Conv2d
{
    /// <summary>
    /// Unfolds one image x [C, H, W] into cols [Positions, Depth] (row stride <paramref name="ldc"/> ≥ Depth rounded up
    /// to 4; the bytes past Depth are set to zero), positions outside the image reading <paramref name="padValue"/>.
    /// </summary>
    public static void Im2Col(ReadOnlySpan<byte> x, Int8ConvGeometry g, byte padValue, Span<byte> cols, int ldc)
    {
        g.Check();
        if (x.Length < g.Channels * g.Height * g.Width) throw new ArgumentException($"int8 conv: image [{g.Channels}, {g.Height}, {g.Width}] needs {g.Channels * g.Height * g.Width} bytes, span has {x.Length}");
        if (ldc < Int8Gemm.PaddedDepth(g.Depth)) throw new ArgumentException($"int8 conv: im2col rows of depth {g.Depth} need a stride >= {Int8Gemm.PaddedDepth(g.Depth)}, got {ldc}");
        if (cols.Length < (long)g.Positions * ldc) throw new ArgumentException($"int8 conv: im2col [{g.Positions}, {ldc}] needs {(long)g.Positions * ldc} bytes, span has {cols.Length}");
        int ow = g.OutWidth, hw = g.Height * g.Width;
        for (int oy = 0; oy < g.OutHeight; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                var row = cols.Slice((oy * ow + ox) * ldc, ldc);
                int p = 0;
                for (int c = 0; c < g.Channels; c++)
                    for (int ky = 0; ky < g.KernelH; ky++)
                    {
                        int iy = oy * g.StrideH - g.PadH + ky * g.DilationH;
                        bool rowInside = (uint)iy < (uint)g.Height;
                        int rowBase = c * hw + iy * g.Width;
                        for (int kx = 0; kx < g.KernelW; kx++, p++)
                        {
                            int ix = ox * g.StrideW - g.PadW + kx * g.DilationW;
                            row[p] = rowInside && (uint)ix < (uint)g.Width ? x[rowBase + ix] : padValue;
                        }
                    }
                row[p..].Clear();
            }
    }

    /// <summary>
    /// y [N, out, OH, OW] = scaleX · scaleW[o] · Σ (x − zeroX)·w + bias[o] as float: the last quantised layer's form.
    /// </summary>
    public static void ForwardDequantize(int n, ReadOnlySpan<byte> x, Int8ConvGeometry g, QuantParams input, Int8PackedWeights w,
        ReadOnlySpan<float> scaleW, ReadOnlySpan<float> bias, Span<float> y)
    {
        int ld = Prepare(n, x, g, input, w, y.Length, out var cols);
        try
        {
            int m = n * g.Positions;
            float[] product = ArrayPool<float>.Shared.Rent(m * w.N);
            try
            {
                Int8Gemm.MultiplyDequantize(m, cols, ld, input.Scale, input.ZeroPoint, w, scaleW, bias, product, w.N);
                ToChannelsFirst<float>(product, n, g.Positions, w.N, y);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(product);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cols);
        }
    }

    /// <summary>
    /// As <see cref="ForwardDequantize"/>, then requantised for the next layer: y = clamp(round(value / output.Scale) +
    /// output.ZeroPoint, 0, 127) as u8 [N, out, OH, OW]. With output zero point 0 the clamp at 0 is a fused ReLU.
    /// </summary>
    public static void ForwardRequantize(int n, ReadOnlySpan<byte> x, Int8ConvGeometry g, QuantParams input, Int8PackedWeights w,
        ReadOnlySpan<float> scaleW, ReadOnlySpan<float> bias, QuantParams output, Span<byte> y)
    {
        int ld = Prepare(n, x, g, input, w, y.Length, out var cols);
        try
        {
            int m = n * g.Positions;
            byte[] product = ArrayPool<byte>.Shared.Rent(m * w.N);
            try
            {
                Int8Gemm.MultiplyRequantize(m, cols, ld, input.Scale, input.ZeroPoint, w, scaleW, bias, output.Scale, output.ZeroPoint, product, w.N);
                ToChannelsFirst<byte>(product, n, g.Positions, w.N, y);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(product);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cols);
        }
    }

    private static int Prepare(int n, ReadOnlySpan<byte> x, Int8ConvGeometry g, QuantParams input, Int8PackedWeights w, int yLength, out byte[] cols)
    {
        ArgumentNullException.ThrowIfNull(w);
        g.Check();
        if (n < 0) throw new ArgumentException($"int8 conv: batch must not be negative, got {n}");
        if (w.K != g.Depth) throw new ArgumentException($"int8 conv: weights of depth {w.K} do not match C·kH·kW = {g.Depth}");
        if (input.ZeroPoint is < 0 or > Int8Gemm.ActivationMax)
            throw new ArgumentOutOfRangeException(nameof(input), input.ZeroPoint, $"int8 conv: input zero point must lie in [0, {Int8Gemm.ActivationMax}]");
        int image = g.Channels * g.Height * g.Width;
        if (x.Length < (long)n * image) throw new ArgumentException($"int8 conv: input [{n}, {g.Channels}, {g.Height}, {g.Width}] needs {(long)n * image} bytes, span has {x.Length}");
        if (yLength < (long)n * w.N * g.Positions) throw new ArgumentException($"int8 conv: output [{n}, {w.N}, {g.OutHeight}, {g.OutWidth}] needs {(long)n * w.N * g.Positions} values, span has {yLength}");
        int ld = w.PaddedDepth;
        cols = ArrayPool<byte>.Shared.Rent(Math.Max(1, n * g.Positions * ld));
        for (int i = 0; i < n; i++)
            Im2Col(x.Slice(i * image, image), g, (byte)input.ZeroPoint, cols.AsSpan(i * g.Positions * ld, g.Positions * ld), ld);
        return ld;
    }

    /// <summary>[N, positions, channels] → [N, channels, positions].</summary>
    private static void ToChannelsFirst<T>(ReadOnlySpan<T> product, int n, int positions, int channels, Span<T> y)
    {
        for (int i = 0; i < n; i++)
        {
            var src = product.Slice(i * positions * channels, positions * channels);
            var dst = y.Slice(i * positions * channels, positions * channels);
            for (int p = 0; p < positions; p++)
                for (int c = 0; c < channels; c++) dst[c * positions + p] = src[p * channels + c];
        }
    }
}
