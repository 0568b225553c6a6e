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

    /// <summary><see cref="Forward"/> from weights packed by <see cref="PackWeights"/>.</summary>
    public static void ForwardPacked(ReadOnlyMemory<T> input, T[] packed, ReadOnlyMemory<T> bias, Conv2dGeometry g, Memory<T> output,
        ReadOnlyMemory<T> residual, Activation activation)
    {
        var l = new Layout(g.InPerGroup, g.Height, g.Width, g.PadH, g.PadW, g.KernelH, g.KernelW, g.DilationH, g.DilationW);
        int k = g.ColumnRows, rows = g.OutPerGroup, blocks = (rows + MaxRows - 1) / MaxRows;
        int groupIn = l.Channels * l.Height * l.Width, groupOut = rows * l.OutHeight * l.OutWidth;
        // Threads take whole images when there are enough, else share each image's blocks of output channels.
        bool splitBlocks = g.Batch < Threads.Count;
        int imageGrain = (int)Math.Clamp((1L << 17) / Math.Max(1, g.MacsPerImage), 1, int.MaxValue);
        int blockGrain = (int)Math.Clamp((1L << 17) / Math.Max(1L, (long)MaxRows * k * l.Grid), 1, int.MaxValue);
        ParallelHelper.For(splitBlocks ? 1 : g.Batch, splitBlocks ? 1 : imageGrain, (start, end) =>
        {
            if (splitBlocks) (start, end) = (0, g.Batch);
            T[] padded = ArrayPool<T>.Shared.Rent(l.BufferLength);
            T[] grid = ArrayPool<T>.Shared.Rent(blocks * MaxRows * l.Grid);
            int[] offsets = ArrayPool<int>.Shared.Rent(k);
            try
            {
                l.FillOffsets(offsets);
                for (int n = start; n < end; n++)
                {
                    for (int grp = 0; grp < g.Groups; grp++)
                    {
                        Pad(input.Span.Slice((n * g.Groups + grp) * groupIn, groupIn), l, padded);
                        var job = (Padded: padded, Grid: grid, Offsets: offsets, Weights: packed, Base: grp * blocks * MaxRows * k, K: k, Rows: rows, Length: l.Grid);
                        if (splitBlocks) ParallelHelper.For(blocks, blockGrain, job, static (j, first, last) => RunBlocks(j, first, last));
                        else RunBlocks(job, 0, blocks);
                        var y = output.Span.Slice((n * g.Groups + grp) * groupOut, groupOut);
                        var b = bias.IsEmpty ? default : bias.Span.Slice(grp * rows, rows);
                        var r = residual.IsEmpty ? default : residual.Span.Slice((n * g.Groups + grp) * groupOut, groupOut);
                        Extract(grid.AsSpan(0, rows * l.Grid), l, b, r, y);
                        if (activation != Activation.None) GemmEpilogue.Activate(y, y, activation);
                    }
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(offsets);
                ArrayPool<T>.Shared.Return(grid);
                ArrayPool<T>.Shared.Return(padded);
            }
        });
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
