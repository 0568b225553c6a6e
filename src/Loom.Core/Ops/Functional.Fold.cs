namespace Loom;

// Sliding blocks ↔ columns (im2col and col2im), composed from differentiable ops over the zero-padded input flattened
// per channel; idx lists, for each kernel offset (ki, kj) and each block position l, the flat padded position it reads:
//   unfold: [N, C, H, W] → [N, C·kh·kw, L]:  cols = pad(x).IndexSelect(idx)         (backward: index_add, overlaps sum)
//   fold:   [N, C·kh·kw, L] → [N, C, H, W]:  y = zeros.IndexAdd(idx, cols), cropped (overlapping blocks sum)
// L = OH·OW, OH = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1. Rows of the columns run over (c, ki, kj), c slowest, as PyTorch's.
public static partial class Functional
{
    /// <summary>
    /// Extracts sliding blocks of <paramref name="input"/> [N, C, H, W] (or [C, H, W]) as columns [N, C·kh·kw, L] (like
    /// <c>torch.nn.functional.unfold</c>).
    /// </summary>
    public static Tensor Unfold(Tensor input, (int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null,
        (int H, int W)? stride = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        const string op = "unfold";
        if (input.Rank != 3 && input.Rank != 4) throw new ArgumentException($"{op}: expected input [N, C, H, W] or unbatched [C, H, W], got shape {input.Shape}");
        var x = input.Rank == 3 ? input.Unsqueeze(0) : input;
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var g = BlockGeometry.Of(op, (h, w), kernelSize, dilation ?? (1, 1), padding ?? (0, 0), stride ?? (1, 1), input.Shape);
        if (g.PadH > 0 || g.PadW > 0) x = Pad(x, [g.PadW, g.PadW, g.PadH, g.PadH]);
        var cols = x.Reshape(n, c, g.PaddedH * g.PaddedW).IndexSelect(2, g.Index()).Reshape(n, c * g.KernelH * g.KernelW, g.Blocks);
        return input.Rank == 3 ? cols.Squeeze(0) : cols;
    }

    /// <summary>
    /// Sums columns [N, C·kh·kw, L] (or [C·kh·kw, L]) back into an image [N, C, H, W] of <paramref name="outputSize"/>,
    /// adding where blocks overlap (like <c>torch.nn.functional.fold</c>).
    /// </summary>
    public static Tensor Fold(Tensor input, (int H, int W) outputSize, (int H, int W) kernelSize, (int H, int W)? dilation = null,
        (int H, int W)? padding = null, (int H, int W)? stride = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        const string op = "fold";
        if (input.Rank != 2 && input.Rank != 3) throw new ArgumentException($"{op}: expected input [N, C·kh·kw, L] or unbatched [C·kh·kw, L], got shape {input.Shape}");
        var cols = input.Rank == 2 ? input.Unsqueeze(0) : input;
        var g = BlockGeometry.Of(op, outputSize, kernelSize, dilation ?? (1, 1), padding ?? (0, 0), stride ?? (1, 1), input.Shape);
        int n = cols.Shape[0], k = g.KernelH * g.KernelW;
        if (cols.Shape[1] % k != 0)
            throw new ArgumentException($"{op}: {cols.Shape[1]} rows of input {input.Shape} are not a multiple of the kernel size {kernelSize.H}×{kernelSize.W}");
        if (cols.Shape[2] != g.Blocks)
            throw new ArgumentException($"{op}: input {input.Shape} has {cols.Shape[2]} blocks, but output size ({outputSize.H}, {outputSize.W}) with this kernel, dilation, padding and stride gives {g.Blocks}");
        int c = cols.Shape[1] / k;
        var image = Tensor.Zeros(new Shape(n, c, g.PaddedH * g.PaddedW), input.DType)
            .IndexAdd(2, g.Index(), cols.Reshape(n, c, k * g.Blocks))
            .Reshape(n, c, g.PaddedH, g.PaddedW)
            .Narrow(2, g.PadH, outputSize.H).Narrow(3, g.PadW, outputSize.W);
        return input.Rank == 2 ? image.Squeeze(0) : image;
    }

    private readonly record struct BlockGeometry(int KernelH, int KernelW, int DilationH, int DilationW, int PadH, int PadW, int StrideH, int StrideW,
        int PaddedH, int PaddedW, int OutH, int OutW)
    {
        public int Blocks => OutH * OutW;

        public static BlockGeometry Of(string op, (int H, int W) size, (int H, int W) k, (int H, int W) d, (int H, int W) p, (int H, int W) s, Shape input)
        {
            if (k.H <= 0 || k.W <= 0 || d.H <= 0 || d.W <= 0 || s.H <= 0 || s.W <= 0 || p.H < 0 || p.W < 0)
                throw new ArgumentException($"{op}: kernel ({k.H}, {k.W}), dilation ({d.H}, {d.W}) and stride ({s.H}, {s.W}) must be positive and padding ({p.H}, {p.W}) non-negative (input {input})");
            int ph = size.H + 2 * p.H, pw = size.W + 2 * p.W;
            int oh = (ph - d.H * (k.H - 1) - 1) / s.H + 1, ow = (pw - d.W * (k.W - 1) - 1) / s.W + 1;
            if (ph < d.H * (k.H - 1) + 1 || pw < d.W * (k.W - 1) + 1)
                throw new ArgumentException($"{op}: the {size.H}×{size.W} image (padding ({p.H}, {p.W})) is smaller than the dilated kernel ({k.H}, {k.W}) (input {input})");
            return new BlockGeometry(k.H, k.W, d.H, d.W, p.H, p.W, s.H, s.W, ph, pw, oh, ow);
        }

        /// <summary>Flat padded position of every (kernel offset, block) pair, kernel offset slowest.</summary>
        public Tensor Index()
        {
            var index = new long[KernelH * KernelW * Blocks];
            int at = 0;
            for (int ki = 0; ki < KernelH; ki++)
                for (int kj = 0; kj < KernelW; kj++)
                    for (int oy = 0; oy < OutH; oy++)
                        for (int ox = 0; ox < OutW; ox++)
                            index[at++] = (long)(oy * StrideH + ki * DilationH) * PaddedW + ox * StrideW + kj * DilationW;
            return Tensor.FromArray(index);
        }
    }
}
