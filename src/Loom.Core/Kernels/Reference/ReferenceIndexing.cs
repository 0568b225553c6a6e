namespace Loom.Kernels.Reference;

/// <summary>
/// Naive twins of the joining, indexing and sorting kernels, kept forever as the oracle the fast ones are tested
/// against. Every function works element by element on row-major arrays with explicit shapes, through full
/// multi-indices, and favours being obviously right over being fast.
/// </summary>
public static class ReferenceIndexing
{
    /// <summary>Row-major multi-index of element <paramref name="linear"/> of <paramref name="shape"/>.</summary>
    public static int[] Unravel(int linear, int[] shape)
    {
        var index = new int[shape.Length];
        for (int a = shape.Length - 1; a >= 0; a--)
        {
            index[a] = linear % shape[a];
            linear /= shape[a];
        }
        return index;
    }

    /// <summary>Row-major position of <paramref name="index"/> in <paramref name="shape"/>.</summary>
    public static int Ravel(int[] index, int[] shape)
    {
        int linear = 0;
        for (int a = 0; a < shape.Length; a++) linear = linear * shape[a] + index[a];
        return linear;
    }

    public static int Numel(int[] shape)
    {
        int n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    /// <summary>Concatenation along <paramref name="axis"/>: each output element finds the input that owns its coordinate.</summary>
    public static T[] Cat<T>(IReadOnlyList<T[]> inputs, IReadOnlyList<int[]> shapes, int axis)
    {
        var outShape = (int[])shapes[0].Clone();
        outShape[axis] = shapes.Sum(s => s[axis]);
        var output = new T[Numel(outShape)];
        for (int e = 0; e < output.Length; e++)
        {
            var index = Unravel(e, outShape);
            int k = 0;
            while (index[axis] >= shapes[k][axis])
            {
                index[axis] -= shapes[k][axis];
                k++;
            }
            output[e] = inputs[k][Ravel(index, shapes[k])];
        }
        return output;
    }

    /// <summary>output[…, j, …] = source[…, index[j], …] along <paramref name="axis"/>.</summary>
    public static T[] IndexSelect<T>(T[] source, int[] shape, int axis, long[] index)
    {
        var outShape = (int[])shape.Clone();
        outShape[axis] = index.Length;
        var output = new T[Numel(outShape)];
        for (int e = 0; e < output.Length; e++)
        {
            var at = Unravel(e, outShape);
            at[axis] = (int)index[at[axis]];
            output[e] = source[Ravel(at, shape)];
        }
        return output;
    }

    /// <summary>torch.index_add: a copy of self with self[…, index[j], …] += source[…, j, …] along <paramref name="axis"/>.</summary>
    public static double[] IndexAdd(double[] self, int[] shape, int axis, long[] index, double[] source)
    {
        var output = (double[])self.Clone();
        var sourceShape = (int[])shape.Clone();
        sourceShape[axis] = index.Length;
        for (int e = 0; e < source.Length; e++)
        {
            var at = Unravel(e, sourceShape);
            at[axis] = (int)index[at[axis]];
            output[Ravel(at, shape)] += source[e];
        }
        return output;
    }

    /// <summary>torch.gather: output[i] = source[i with i[axis] replaced by index[i]], output shaped like the index.</summary>
    public static T[] Gather<T>(T[] source, int[] shape, int axis, long[] index, int[] indexShape)
    {
        var output = new T[index.Length];
        for (int e = 0; e < output.Length; e++)
        {
            var at = Unravel(e, indexShape);
            at[axis] = (int)index[e];
            output[e] = source[Ravel(at, shape)];
        }
        return output;
    }

    /// <summary>torch.scatter_add: a copy of self with self[i with i[axis] = index[i]] += source[i] for every index position i.</summary>
    public static double[] ScatterAdd(double[] self, int[] shape, int axis, long[] index, int[] indexShape, double[] source, int[] sourceShape)
    {
        var output = (double[])self.Clone();
        for (int e = 0; e < index.Length; e++)
        {
            var at = Unravel(e, indexShape);
            double value = source[Ravel(at, sourceShape)];
            at[axis] = (int)index[e];
            output[Ravel(at, shape)] += value;
        }
        return output;
    }

    public static T[] MaskedSelect<T>(T[] source, bool[] mask)
    {
        var output = new List<T>();
        for (int i = 0; i < source.Length; i++)
            if (mask[i]) output.Add(source[i]);
        return [.. output];
    }

    /// <summary>Coordinates of the non-zero elements, as a flat count × rank array.</summary>
    public static long[] Nonzero(double[] source, int[] shape)
    {
        var output = new List<long>();
        for (int e = 0; e < source.Length; e++)
            if (source[e] != 0 || double.IsNaN(source[e]))
                foreach (var c in Unravel(e, shape)) output.Add(c);
        return [.. output];
    }

    /// <summary>tril (or triu when <paramref name="upper"/>) over the last two dimensions.</summary>
    public static T[] Triangle<T>(T[] source, int[] shape, int diagonal, bool upper)
    {
        var output = new T[source.Length];
        for (int e = 0; e < source.Length; e++)
        {
            var at = Unravel(e, shape);
            int offset = at[^1] - at[^2];
            bool keep = upper ? offset >= diagonal : offset <= diagonal;
            output[e] = keep ? source[e] : default!;
        }
        return output;
    }

    public static T[] Flip<T>(T[] source, int[] shape, int[] axes)
    {
        var output = new T[source.Length];
        for (int e = 0; e < source.Length; e++)
        {
            var at = Unravel(e, shape);
            foreach (var a in axes) at[a] = shape[a] - 1 - at[a];
            output[e] = source[Ravel(at, shape)];
        }
        return output;
    }

    /// <summary>torch.repeat: the source tiled repeats[i] times along each dimension (new leading dimensions first).</summary>
    public static T[] Repeat<T>(T[] source, int[] shape, int[] repeats)
    {
        int lead = repeats.Length - shape.Length;
        var padded = new int[repeats.Length];
        var outShape = new int[repeats.Length];
        for (int a = 0; a < repeats.Length; a++)
        {
            padded[a] = a < lead ? 1 : shape[a - lead];
            outShape[a] = padded[a] * repeats[a];
        }
        var output = new T[Numel(outShape)];
        for (int e = 0; e < output.Length; e++)
        {
            var at = Unravel(e, outShape);
            for (int a = 0; a < at.Length; a++) at[a] %= padded[a];
            output[e] = source[Ravel(at, padded)];
        }
        return output;
    }

    /// <summary>
    /// Stable sort of each row along <paramref name="axis"/>, NaN above everything and −0 equal to +0; returns the
    /// sorted values and their original positions.
    /// </summary>
    public static (T[] Values, long[] Indices) Sort<T>(T[] source, int[] shape, int axis, bool descending) where T : IComparable<T> =>
        TopK(source, shape, axis, shape[axis], descending);

    /// <summary>The first k elements of each row in the order <see cref="Sort{T}"/> gives.</summary>
    public static (T[] Values, long[] Indices) TopK<T>(T[] source, int[] shape, int axis, int k, bool largest) where T : IComparable<T>
    {
        var outShape = (int[])shape.Clone();
        outShape[axis] = k;
        var values = new T[Numel(outShape)];
        var indices = new long[values.Length];
        var rowShape = (int[])shape.Clone();
        rowShape[axis] = 1;
        for (int r = 0; r < Numel(rowShape); r++)
        {
            var at = Unravel(r, rowShape);
            var row = new List<(T Value, int Position)>();
            for (int j = 0; j < shape[axis]; j++)
            {
                at[axis] = j;
                row.Add((source[Ravel(at, shape)], j));
            }
            // LINQ's OrderBy and OrderByDescending are stable, which is the tie rule the kernels promise.
            var ordered = largest
                ? row.OrderByDescending(p => p.Value, NanLastComparer<T>.Instance).ToList()
                : row.OrderBy(p => p.Value, NanLastComparer<T>.Instance).ToList();
            for (int j = 0; j < k; j++)
            {
                at[axis] = j;
                int o = Ravel(at, outShape);
                values[o] = ordered[j].Value;
                indices[o] = ordered[j].Position;
            }
        }
        return (values, indices);
    }

    /// <summary>The default order, except that NaN is above every number (float.CompareTo puts it below).</summary>
    private sealed class NanLastComparer<T> : IComparer<T> where T : IComparable<T>
    {
        public static readonly NanLastComparer<T> Instance = new();

        public int Compare(T? x, T? y)
        {
            bool xNan = x is float xf ? float.IsNaN(xf) : x is double xd && double.IsNaN(xd);
            bool yNan = y is float yf ? float.IsNaN(yf) : y is double yd && double.IsNaN(yd);
            if (xNan || yNan) return xNan.CompareTo(yNan);
            return x!.CompareTo(y!);
        }
    }
}
