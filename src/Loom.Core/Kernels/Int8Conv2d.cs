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
/// weights (symmetric, one scale per output channel), lowered to <see cref="Int8Gemm"/> through im2col, int32
/// accumulation, and an epilogue that either dequantises to float or requantises to u8 for the next layer (fused: the
/// int32 sums never reach memory). Every <see cref="Int8GemmPath"/> serves it, forced as for the GEMM.
/// </summary>
/// <remarks>
/// Images are channels-last (NHWC), as in fbgemm and oneDNN's int8 convolutions: the GEMM's [position, channel]
/// result is then the next layer's NHWC input as it stands (no transpose between layers), and one kernel row's taps
/// are runs of KernelW·C contiguous bytes, so im2col copies runs instead of single bytes. The weights are packed in
/// the matching depth order (kH, kW, C) by <see cref="PackWeights"/>. The im2col matrix has one row per output position
/// of every image (m = N·OH·OW, so one GEMM covers the batch and threads split it) and is padded with the input's zero
/// point: a padded position is real 0, as a float convolution's zero padding.
/// </remarks>
public static unsafe class Int8Conv2d
{
    /// <summary>
    /// Packs weights stored [out, C, kH, kW] (PyTorch's order, as checkpoints hold them) for the channels-last
    /// im2col: depth order (kH, kW, C).
    /// </summary>
    public static Int8PackedWeights PackWeights(ReadOnlySpan<sbyte> weights, int outputs, int channels, int kernelH, int kernelW)
    {
        int taps = kernelH * kernelW, depth = channels * taps;
        if (outputs <= 0 || depth <= 0) throw new ArgumentException($"int8 conv: weights must be non-empty, got [{outputs}, {channels}, {kernelH}, {kernelW}]");
        if (weights.Length < (long)outputs * depth) throw new ArgumentException($"int8 conv: weights [{outputs}, {channels}, {kernelH}, {kernelW}] need {(long)outputs * depth} values, span has {weights.Length}");
        var reordered = new sbyte[outputs * depth];
        for (int o = 0; o < outputs; o++)
            for (int c = 0; c < channels; c++)
                for (int t = 0; t < taps; t++)
                {
                    sbyte v = weights[o * depth + c * taps + t];
                    // Named in the stored order here: after the reorder the packer would name a position no file has.
                    if (v == sbyte.MinValue)
                        throw new ArgumentException($"int8 conv: weight [{o}, {c}, {t / kernelW}, {t % kernelW}] is -128; symmetric int8 weights lie in [-127, 127]");
                    reordered[o * depth + t * channels + c] = v;
                }
        return new Int8PackedWeights(reordered, outputs, depth, depth);
    }

    /// <summary>
    /// Unfolds one image x [H, W, C] into cols [Positions, Depth] in depth order (kH, kW, C) (row stride
    /// <paramref name="ldc"/> ≥ Depth rounded up to 4; the bytes past Depth are set to zero), positions outside the
    /// image reading <paramref name="padValue"/>.
    /// </summary>
    public static void Im2Col(ReadOnlySpan<byte> x, Int8ConvGeometry g, byte padValue, Span<byte> cols, int ldc)
    {
        g.Check();
        if (x.Length < g.Channels * g.Height * g.Width) throw new ArgumentException($"int8 conv: image [{g.Height}, {g.Width}, {g.Channels}] needs {g.Channels * g.Height * g.Width} bytes, span has {x.Length}");
        if (ldc < Int8Gemm.PaddedDepth(g.Depth)) throw new ArgumentException($"int8 conv: im2col rows of depth {g.Depth} need a stride >= {Int8Gemm.PaddedDepth(g.Depth)}, got {ldc}");
        if (cols.Length < (long)g.Positions * ldc) throw new ArgumentException($"int8 conv: im2col [{g.Positions}, {ldc}] needs {(long)g.Positions * ldc} bytes, span has {cols.Length}");
        fixed (byte* px = x, pc = cols)
            Im2ColUnchecked(px, g, padValue, pc, ldc);
    }

    private static void Im2ColUnchecked(byte* x, Int8ConvGeometry g, byte padValue, byte* cols, int ldc)
    {
        int c = g.Channels, ow = g.OutWidth, run = g.KernelW * c, rowBytes = g.Width * c;
        // With unit dilation a kernel row's taps that all fall inside the image are one run of KernelW·C bytes.
        bool runs = g.DilationW == 1;
        for (int oy = 0; oy < g.OutHeight; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                byte* row = cols + (long)(oy * ow + ox) * ldc;
                byte* dst = row;
                int ix0 = ox * g.StrideW - g.PadW;
                bool inside = runs && ix0 >= 0 && ix0 + g.KernelW <= g.Width;
                for (int ky = 0; ky < g.KernelH; ky++, dst += run)
                {
                    int iy = oy * g.StrideH - g.PadH + ky * g.DilationH;
                    if ((uint)iy >= (uint)g.Height)
                    {
                        Fill(dst, run, padValue);
                        continue;
                    }
                    byte* src = x + (long)iy * rowBytes;
                    if (inside)
                    {
                        Copy(src + ix0 * c, dst, run);
                        continue;
                    }
                    for (int kx = 0; kx < g.KernelW; kx++)
                    {
                        int ix = ix0 + kx * g.DilationW;
                        if ((uint)ix < (uint)g.Width) Copy(src + ix * c, dst + kx * c, c);
                        else Fill(dst + kx * c, c, padValue);
                    }
                }
                Fill(row + g.Depth, ldc - g.Depth, 0);
            }
    }

    // Runs are short when C is small (3 bytes for a 3×3 kernel on a grey image, at every one of N·OH·OW positions):
    // a plain loop there costs less than a call into the block copy.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(byte* src, byte* dst, int count)
    {
        if (count >= 32) Buffer.MemoryCopy(src, dst, count, count);
        else for (int i = 0; i < count; i++) dst[i] = src[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fill(byte* dst, int count, byte value)
    {
        if (count >= 32) new Span<byte>(dst, count).Fill(value);
        else for (int i = 0; i < count; i++) dst[i] = value;
    }

    /// <summary>
    /// y [N, out, OH, OW] (NCHW, the float layers' layout) = scaleX · scaleW[o] · Σ (x − zeroX)·w + bias[o] for x
    /// [N, H, W, C]: the last quantised layer's form. <paramref name="w"/> comes from <see cref="PackWeights"/>.
    /// </summary>
    public static void ForwardDequantize(int n, ReadOnlySpan<byte> x, Int8ConvGeometry g, QuantParams input, Int8PackedWeights w,
        ReadOnlySpan<float> scaleW, ReadOnlySpan<float> bias, Span<float> y)
    {
        Check(n, x, g, input, w, scaleW, bias, y.Length);
        fixed (byte* px = x)
        fixed (float* py = y, psw = scaleW, pb = bias)
            Run(new Job { X = px, YFloat = py, G = g, Input = input, W = w, ScaleW = psw, Bias = bias.IsEmpty ? null : pb, N = w.N }, n);
    }

    /// <summary>
    /// As <see cref="ForwardDequantize"/>, then requantised for the next layer: y = clamp(round(value / output.Scale) +
    /// output.ZeroPoint, 0, 127) as u8 [N, OH, OW, out] (channels-last, the next int8 convolution's input as it stands).
    /// With output zero point 0 the clamp at 0 is a fused ReLU.
    /// </summary>
    public static void ForwardRequantize(int n, ReadOnlySpan<byte> x, Int8ConvGeometry g, QuantParams input, Int8PackedWeights w,
        ReadOnlySpan<float> scaleW, ReadOnlySpan<float> bias, QuantParams output, Span<byte> y)
    {
        Check(n, x, g, input, w, scaleW, bias, y.Length);
        if (!(output.Scale > 0) || !float.IsFinite(output.Scale) || output.ZeroPoint is < 0 or > Int8Gemm.ActivationMax)
            throw new ArgumentOutOfRangeException(nameof(output), output, $"int8 conv: output parameters need a positive finite scale and a zero point in [0, {Int8Gemm.ActivationMax}]");
        fixed (byte* px = x, py = y)
        fixed (float* psw = scaleW, pb = bias)
            Run(new Job { X = px, YByte = py, G = g, Input = input, Output = output, W = w, ScaleW = psw, Bias = bias.IsEmpty ? null : pb, N = w.N }, n);
    }

    /// <summary>The im2col buffer of one chunk of images stays below this, so it is still in L2 when the GEMM reads it.</summary>
    private const int ChunkBytes = 512 * 1024;

    /// <summary>One convolution as raw pointers, for the parallel helper.</summary>
    private struct Job
    {
        public byte* X, YByte;
        public float* YFloat, ScaleW, Bias;
        public Int8ConvGeometry G;
        public QuantParams Input, Output;
        public Int8PackedWeights W;
        /// <summary>Output channels (the GEMM's n), images in the batch, images per chunk.</summary>
        public int N, Batch, ImagesPerChunk;
    }

    /// <summary>
    /// Threads take chunks of whole images: each unfolds its chunk into its own small buffer and multiplies it at once
    /// (as the float convolution splits the batch), so im2col runs in parallel and its output is read from cache. A
    /// single chunk (batch 1) runs on the calling thread, where the GEMM splits its columns over the threads instead.
    /// </summary>
    private static void Run(Job job, int n)
    {
        if (n == 0) return;
        job.Batch = n;
        long perImage = (long)job.G.Positions * job.W.PaddedDepth;
        int byThreads = (n + Threads.Count - 1) / Threads.Count;
        job.ImagesPerChunk = (int)Math.Max(1, Math.Min(byThreads, ChunkBytes / Math.Max(1, perImage)));
        int chunks = (n + job.ImagesPerChunk - 1) / job.ImagesPerChunk;
        ParallelHelper.For(chunks, 1, job, static (j, first, end) =>
        {
            for (int chunk = first; chunk < end; chunk++) RunChunk(j, chunk);
        });
    }

    private static void RunChunk(in Job j, int chunk)
    {
        var g = j.G;
        int first = chunk * j.ImagesPerChunk, images = Math.Min(j.ImagesPerChunk, j.Batch - first);
        int ld = j.W.PaddedDepth, positions = g.Positions, m = images * positions, image = g.Channels * g.Height * g.Width;
        byte[] cols = ArrayPool<byte>.Shared.Rent(Math.Max(1, m * ld));
        try
        {
            fixed (byte* pc = cols)
                for (int i = 0; i < images; i++)
                    Im2ColUnchecked(j.X + (long)(first + i) * image, g, (byte)j.Input.ZeroPoint, pc + (long)i * positions * ld, ld);
            var scaleW = new ReadOnlySpan<float>(j.ScaleW, j.N);
            var bias = j.Bias == null ? ReadOnlySpan<float>.Empty : new ReadOnlySpan<float>(j.Bias, j.N);
            if (j.YByte != null)
            {
                var y = new Span<byte>(j.YByte + (long)first * positions * j.N, m * j.N);
                Int8Gemm.MultiplyRequantize(m, cols, ld, j.Input.Scale, j.Input.ZeroPoint, j.W, scaleW, bias, j.Output.Scale, j.Output.ZeroPoint, y, j.N, checkActivations: false);
                return;
            }
            float[] product = ArrayPool<float>.Shared.Rent(m * j.N);
            try
            {
                Int8Gemm.MultiplyDequantize(m, cols, ld, j.Input.Scale, j.Input.ZeroPoint, j.W, scaleW, bias, product, j.N, checkActivations: false);
                ToChannelsFirst(product, images, positions, j.N, new Span<float>(j.YFloat + (long)first * positions * j.N, m * j.N));
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

    private static void Check(int n, ReadOnlySpan<byte> x, Int8ConvGeometry g, QuantParams input, Int8PackedWeights w,
        ReadOnlySpan<float> scaleW, ReadOnlySpan<float> bias, int yLength)
    {
        ArgumentNullException.ThrowIfNull(w);
        g.Check();
        if (n < 0) throw new ArgumentException($"int8 conv: batch must not be negative, got {n}");
        if (w.K != g.Depth) throw new ArgumentException($"int8 conv: weights of depth {w.K} do not match C·kH·kW = {g.Depth}");
        if (input.ZeroPoint is < 0 or > Int8Gemm.ActivationMax)
            throw new ArgumentOutOfRangeException(nameof(input), input.ZeroPoint, $"int8 conv: input zero point must lie in [0, {Int8Gemm.ActivationMax}]");
        int image = g.Channels * g.Height * g.Width;
        if (x.Length < (long)n * image) throw new ArgumentException($"int8 conv: input [{n}, {g.Height}, {g.Width}, {g.Channels}] needs {(long)n * image} bytes, span has {x.Length}");
        if (yLength < (long)n * w.N * g.Positions) throw new ArgumentException($"int8 conv: output [{n}, {w.N}, {g.OutHeight}, {g.OutWidth}] needs {(long)n * w.N * g.Positions} values, span has {yLength}");
        if (scaleW.Length < w.N) throw new ArgumentException($"int8 conv: {w.N} output channels need {w.N} weight scales, got {scaleW.Length}");
        if (!bias.IsEmpty && bias.Length < w.N) throw new ArgumentException($"int8 conv: {w.N} output channels need {w.N} biases, got {bias.Length}");
        // Checked once here rather than per im2col row by the GEMM: im2col only copies these bytes and the zero point.
        var images = x[..(n * image)];
        if (!images.IsEmpty)
        {
            byte max = TensorPrimitives.Max(images);
            if (max > Int8Gemm.ActivationMax)
                throw new ArgumentException($"int8 conv: activation {images.IndexOf(max)} is {max}; quantised activations lie in [0, {Int8Gemm.ActivationMax}]");
        }
    }

    /// <summary>[N, positions, channels] → [N, channels, positions].</summary>
    private static void ToChannelsFirst(ReadOnlySpan<float> product, int n, int positions, int channels, Span<float> y)
    {
        fixed (float* ps = product, pd = y)
            for (int i = 0; i < n; i++)
            {
                float* src = ps + (long)i * positions * channels, dst = pd + (long)i * positions * channels;
                for (int p = 0; p < positions; p++)
                    for (int c = 0; c < channels; c++) dst[c * positions + p] = src[p * channels + c];
            }
    }
}
