namespace Loom;

/// <summary>
/// The sizes of a tensor's dimensions. Immutable; equality compares sizes, so two shapes built separately are equal
/// when their dimensions are. Prints as PyTorch does: <c>[2, 3, 4]</c>.
/// </summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int[]? _dims;

    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        foreach (var d in dims)
            if (d < 0) throw new ArgumentException($"shape {Format(dims)} has a negative dimension");
        _dims = (int[])dims.Clone();
    }

    public Shape(ReadOnlySpan<int> dims) : this(dims.ToArray()) { }

    /// <summary>Wraps an array the caller promises never to mutate again.</summary>
    internal static Shape Wrap(int[] dims) => new(dims, trusted: true);

    private Shape(int[] dims, bool trusted) { _ = trusted; _dims = dims; }

    public static Shape Scalar => new([], trusted: true);

    public int Rank => _dims?.Length ?? 0;

    public int this[int axis] => _dims![axis];

    /// <summary>Dimension by index from either end (<c>shape[^1]</c> is the last).</summary>
    public int this[Index axis] => _dims![axis];

    public ReadOnlySpan<int> Dims => _dims;

    /// <summary>The number of elements: the product of the dimensions (1 for a scalar).</summary>
    public int Numel
    {
        get
        {
            long n = 1;
            foreach (var d in Dims) n *= d;
            if (n > int.MaxValue) throw new OverflowException($"shape {this} has {n} elements, more than Loom's limit of {int.MaxValue}");
            return (int)n;
        }
    }

    public int[] ToArray() => Dims.ToArray();

    /// <summary>Strides of a contiguous (row-major) tensor of this shape, in elements.</summary>
    public int[] ContiguousStrides()
    {
        var strides = new int[Rank];
        int s = 1;
        for (int i = Rank - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(_dims![i], 1);
        }
        return strides;
    }

    /// <summary>Turns a possibly negative axis into 0..rank-1, or throws naming the op and the shape.</summary>
    public int NormalizeAxis(int axis, string op) => NormalizeAxis(axis, Rank, op, this);

    internal static int NormalizeAxis(int axis, int rank, string op, Shape shape)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1) || (rank == 0 && a != 0))
            throw new ArgumentException($"{op}: axis {axis} is out of range for a tensor of shape {shape} (rank {rank})");
        return a;
    }

    /// <summary>NumPy broadcasting of two shapes; throws naming the op and both shapes when they do not broadcast.</summary>
    public static Shape Broadcast(Shape a, Shape b, string op)
    {
        if (a.Equals(b)) return a;
        if (!TryBroadcast(a.Dims, b.Dims, out var dims, out var mismatch))
            throw new ArgumentException($"{op}: shapes {a} and {b} cannot be broadcast together (dimension {mismatch.Axis}: {mismatch.A} vs {mismatch.B})");
        return Wrap(dims);
    }

    /// <summary>
    /// NumPy broadcasting of two lists of dimensions, aligned at the right. When they do not broadcast, returns false
    /// with the first dimension of the result that fails and the two sizes there, for the caller's message.
    /// </summary>
    internal static bool TryBroadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b, out int[] dims, out (int Axis, int A, int B) mismatch)
    {
        int rank = Math.Max(a.Length, b.Length);
        dims = new int[rank];
        mismatch = default;
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
            {
                mismatch = (i, da, db);
                return false;
            }
            dims[i] = da == 1 ? db : da;
        }
        return true;
    }

    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    public static implicit operator Shape(int[] dims) => new(dims);

    public override string ToString() => Format(Dims);

    internal static string Format(ReadOnlySpan<int> dims)
    {
        var sb = new DefaultInterpolatedStringHandler(2 + dims.Length * 4, 0);
        sb.AppendLiteral("[");
        for (int i = 0; i < dims.Length; i++)
        {
            if (i > 0) sb.AppendLiteral(", ");
            sb.AppendFormatted(dims[i]);
        }
        sb.AppendLiteral("]");
        return sb.ToStringAndClear();
    }
}
