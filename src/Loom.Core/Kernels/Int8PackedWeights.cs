namespace Loom.Kernels;

/// <summary>
/// An int8 weight matrix W [n, k] (one row per output channel, as a linear layer stores it) packed once into the
/// layout every <see cref="Int8Gemm"/> path reads, with each row's sum kept for the activations' zero point.
/// </summary>
/// <remarks>
/// Layout: columns of the product (rows of W) in panels of <see cref="PanelWidth"/>, n rounded up to an even number of
/// panels (the 512-bit kernel reads two at a time); within a panel, for each group of four k, the 16 columns' four
/// bytes side by side (64 bytes): exactly what <c>vpmaddubsw</c>/<c>vpdpbusd</c> multiply against four broadcast
/// activation bytes. k is rounded up to <see cref="PaddedDepth"/> and the padding is zero, so whatever the activation
/// buffer holds past k adds nothing. Packing is independent of the path, so one packed matrix serves every path.
/// </remarks>
public sealed class Int8PackedWeights
{
    /// <summary>Columns per panel: one 512-bit register of int32 accumulators.</summary>
    public const int PanelWidth = 16;

    internal readonly sbyte[] Data;
    internal readonly int[] RowSums;

    /// <summary>Output channels (rows of W, columns of the product).</summary>
    public int N { get; }

    /// <summary>Depth (columns of W).</summary>
    public int K { get; }

    /// <summary>k rounded up to a multiple of 4: the row stride the activation buffer needs at least.</summary>
    public int PaddedDepth { get; }

    internal int PaddedN { get; }
    internal int PanelBytes => PanelWidth * PaddedDepth;

    /// <summary>Bytes held (the packed matrix and the row sums): what the quantised layer costs in memory.</summary>
    public long SizeInBytes => Data.LongLength + 4L * RowSums.Length;

    /// <summary>Packs W [n, k], row-major with row stride <paramref name="ldw"/>; values must lie in [-127, 127].</summary>
    public Int8PackedWeights(ReadOnlySpan<sbyte> w, int n, int k, int ldw)
    {
        if (n <= 0 || k <= 0) throw new ArgumentException($"int8 gemm: weights must be non-empty, got [{n}, {k}]");
        if (ldw < k) throw new ArgumentException($"int8 gemm: weights [{n}, {k}] need ldw >= {k}, got {ldw}");
        if (w.Length < (long)(n - 1) * ldw + k)
            throw new ArgumentException($"int8 gemm: weights [{n}, {k}] with ldw {ldw} need {(long)(n - 1) * ldw + k} values, span has {w.Length}");
        N = n;
        K = k;
        PaddedDepth = Int8Gemm.PaddedDepth(k);
        PaddedN = (n + 2 * PanelWidth - 1) / (2 * PanelWidth) * (2 * PanelWidth);
        Data = new sbyte[(long)PaddedN * PaddedDepth];
        RowSums = new int[PaddedN];
        for (int j = 0; j < n; j++)
        {
            var row = w.Slice(j * ldw, k);
            int panel = j / PanelWidth, lane = j % PanelWidth, sum = 0;
            long baseOffset = (long)panel * PanelBytes + lane * 4;
            for (int p = 0; p < k; p++)
            {
                sbyte v = row[p];
                // -128 is excluded so that |a·w| pairs stay inside int16 on the vpmaddubsw paths (Int8Gemm remarks).
                if (v == sbyte.MinValue)
                    throw new ArgumentException($"int8 gemm: weight [{j}, {p}] is -128; symmetric int8 weights lie in [-127, 127]");
                Data[baseOffset + (p >> 2) * (PanelWidth * 4) + (p & 3)] = v;
                sum += v;
            }
            RowSums[j] = sum;
        }
    }

    /// <summary>W[j, p] read back from the packed layout (for tests and serialisation).</summary>
    public sbyte this[int j, int p] => Data[(long)(j / PanelWidth) * PanelBytes + (p >> 2) * (PanelWidth * 4) + (j % PanelWidth) * 4 + (p & 3)];
}
