using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using Loom.Threading;

namespace Loom.Kernels;

// The forward kernel with weights packed once (PackedConv2dWeight) in blocks of MaxRows output channels, each block
// contiguous: [group][block][tap k][MaxRows]. Unpacked, Forward transposes the weights on every call and each tile
// walks them with a stride of OutPerGroup elements, so a wide layer (512 → 512 at 7×7: 9.4 MB) streams the whole
// weight tensor once per grid tile in 2 KB jumps (21 ms against 2.7 by GEMM). Packed, a block's weights (8 × 4608
// floats, 147 KB) stay in L2 while every tile of the grid uses them, and threads split the blocks, not the tiles.
internal static unsafe partial class DirectConv<T>
{
    /// <summary>Elements of <see cref="PackWeights"/>'s layout for a weight of <paramref name="outChannels"/> rows of depth <paramref name="depth"/> in <paramref name="groups"/> groups.</summary>
    public static int PackedLength(int outChannels, int depth, int groups)
    {
        int rows = outChannels / groups;
        return groups * (rows + MaxRows - 1) / MaxRows * MaxRows * depth;
    }

    /// <summary>
    /// w [OutC, depth] (depth = C/groups · kH · kW) into packed[grp][block][p][i] = w[grp·rows + block·MaxRows + i, p],
    /// zero past the group's last row.
    /// </summary>
    public static void PackWeights(ReadOnlySpan<T> w, int outChannels, int depth, int groups, Span<T> packed)
    {
        int rows = outChannels / groups, blocks = (rows + MaxRows - 1) / MaxRows;
        packed[..PackedLength(outChannels, depth, groups)].Clear();
        for (int grp = 0; grp < groups; grp++)
            for (int o = 0; o < rows; o++)
            {
                var src = w.Slice((grp * rows + o) * depth, depth);
                var dst = packed.Slice(((grp * blocks + o / MaxRows) * depth) * MaxRows + o % MaxRows);
                for (int p = 0; p < depth; p++) dst[p * MaxRows] = src[p];
            }
    }

    /// <summary>
    /// Whether <see cref="ForwardPacked"/> computes this convolution: any stride (equal along both axes), the output a
    /// plain convolution's. A strided convolution runs over the input's stride phases (see <see cref="Layout"/>): every
    /// tap is a contiguous window again, with no im2col (ResNet18's 7×7/2 stem and its stride-2 3×3 layers).
    /// </summary>
    public static bool AppliesPacked(in Conv2dGeometry g) =>
        IsSupported && g.StrideH == g.StrideW
        && g.OutHeight == Conv2dGeometry.OutputSize(g.Height, g.KernelH, g.StrideH, g.PadH, g.DilationH)
        && g.OutWidth == Conv2dGeometry.OutputSize(g.Width, g.KernelW, g.StrideW, g.PadW, g.DilationW);

    /// <summary><see cref="Forward"/> from weights packed by <see cref="PackWeights"/>, for any stride (<see cref="AppliesPacked"/>).</summary>
    public static void ForwardPacked(ReadOnlyMemory<T> input, T[] packed, ReadOnlyMemory<T> bias, Conv2dGeometry g, Memory<T> output,
        ReadOnlyMemory<T> residual, Activation activation)
    {
        var l = new Layout(g.InPerGroup, g.Height, g.Width, g.PadH, g.PadW, g.KernelH, g.KernelW, g.DilationH, g.DilationW, g.StrideH, g.StrideW);
        int k = g.ColumnRows, rows = g.OutPerGroup, blocks = (rows + MaxRows - 1) / MaxRows, gridLength = l.Grid;
        int groupIn = g.InPerGroup * g.InPlane, groupOut = rows * g.OutPlane;
        // Threads take whole images when there are enough, else share each image's blocks of output channels.
        bool splitBlocks = g.Batch < Threads.Count;
        int imageGrain = (int)Math.Clamp((1L << 17) / Math.Max(1, g.MacsPerImage), 1, int.MaxValue);
        int blockGrain = (int)Math.Clamp((1L << 17) / Math.Max(1L, (long)MaxRows * k * gridLength), 1, int.MaxValue);
        ParallelHelper.For(splitBlocks ? 1 : g.Batch, splitBlocks ? 1 : imageGrain, (start, end) =>
        {
            if (splitBlocks) (start, end) = (0, g.Batch);
            T[] phases = ArrayPool<T>.Shared.Rent(l.BufferLength);
            T[] grid = ArrayPool<T>.Shared.Rent(blocks * MaxRows * gridLength);
            int[] offsets = ArrayPool<int>.Shared.Rent(k);
            try
            {
                l.FillOffsets(offsets);
                for (int n = start; n < end; n++)
                {
                    for (int grp = 0; grp < g.Groups; grp++)
                    {
                        Pad(input.Span.Slice((n * g.Groups + grp) * groupIn, groupIn), l, phases);
                        var job = (Padded: phases, Grid: grid, Offsets: offsets, Weights: packed, Base: grp * blocks * MaxRows * k, K: k, Rows: rows, Length: gridLength);
                        if (splitBlocks) ParallelHelper.For(blocks, blockGrain, job, static (j, first, last) => RunBlocks(j, first, last));
                        else RunBlocks(job, 0, blocks);
                        var y = output.Span.Slice((n * g.Groups + grp) * groupOut, groupOut);
                        var b = bias.IsEmpty ? default : bias.Span.Slice(grp * rows, rows);
                        var r = residual.IsEmpty ? default : residual.Span.Slice((n * g.Groups + grp) * groupOut, groupOut);
                        Extract(grid.AsSpan(0, rows * gridLength), gridLength, l.GridWidth, g.OutHeight, g.OutWidth, b, r, y);
                        if (activation != Activation.None) GemmEpilogue.Activate(y, y, activation);
                    }
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(offsets);
                ArrayPool<T>.Shared.Return(grid);
                ArrayPool<T>.Shared.Return(phases);
            }
        });
    }

    /// <summary>The real columns of a grid [rows, gridLength] whose output rows are rowStride apart, plus bias[row] and the residual.</summary>
    private static void Extract(ReadOnlySpan<T> grid, int gridLength, int rowStride, int outHeight, int outWidth, ReadOnlySpan<T> bias,
        ReadOnlySpan<T> residual, Span<T> output)
    {
        int rows = output.Length / (outHeight * outWidth);
        for (int o = 0; o < rows; o++)
        {
            for (int i = 0; i < outHeight; i++)
            {
                var src = grid.Slice(o * gridLength + i * rowStride, outWidth);
                var dst = output.Slice((o * outHeight + i) * outWidth, outWidth);
                if (bias.IsEmpty) src.CopyTo(dst);
                else System.Numerics.Tensors.TensorPrimitives.Add(src, bias[o], dst);
                if (!residual.IsEmpty) System.Numerics.Tensors.TensorPrimitives.Add(dst, residual.Slice((o * outHeight + i) * outWidth, outWidth), dst);
            }
        }
    }

    /// <summary>Blocks [first, end) of output channels over the whole grid: a block's weights stay in cache across the grid's tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlocks((T[] Padded, T[] Grid, int[] Offsets, T[] Weights, int Base, int K, int Rows, int Length) j, int first, int end)
    {
        fixed (T* xp = j.Padded, yp = j.Grid, wp = j.Weights)
        fixed (int* op = j.Offsets)
        {
            for (int block = first; block < end; block++)
            {
                int o = block * MaxRows;
                T* w = wp + j.Base + (nint)o * j.K;
                T* y = yp + (nint)o * j.Length;
                int r = Math.Min(MaxRows, j.Rows - o);
                for (int q = 0; q < j.Length; q += TileWidth)
                {
                    switch (r)
                    {
                        case 1: ForwardTile<R1>(xp + q, op, j.K, w, MaxRows, y + q, j.Length); break;
                        case 2: ForwardTile<R2>(xp + q, op, j.K, w, MaxRows, y + q, j.Length); break;
                        case 3: ForwardTile<R3>(xp + q, op, j.K, w, MaxRows, y + q, j.Length); break;
                        case 4: ForwardTile<R4>(xp + q, op, j.K, w, MaxRows, y + q, j.Length); break;
                        case 5: ForwardTile<R5>(xp + q, op, j.K, w, MaxRows, y + q, j.Length); break;
                        case 6: ForwardTile<R6>(xp + q, op, j.K, w, MaxRows, y + q, j.Length); break;
                        case 7: ForwardTile<R7>(xp + q, op, j.K, w, MaxRows, y + q, j.Length); break;
                        default: ForwardTile<R8>(xp + q, op, j.K, w, MaxRows, y + q, j.Length); break;
                    }
                }
            }
        }
    }
}
