using Loom.Random;

namespace Loom;

public partial class Tensor
{
    /// <summary>An uninitialised tensor (pooled memory may hold stale values): only for kernels that overwrite every element.</summary>
    /// <summary>
    /// A tensor whose elements are not initialised (<c>torch.empty</c>): for outputs that are about to be overwritten
    /// entirely. The contents are arbitrary, possibly another tensor's old values when the array comes from the pool.
    /// </summary>
    public static Tensor Empty(Shape shape, DType dtype = DType.Float32) => new(Storage.Allocate(dtype, shape.Numel, zeroed: false), shape);

    public static Tensor Zeros(params int[] shape) => Zeros(new Shape(shape));

    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32) => new(Storage.Allocate(dtype, shape.Numel), shape);

    public static Tensor Ones(params int[] shape) => Full(new Shape(shape), 1.0);

    public static Tensor Ones(Shape shape, DType dtype = DType.Float32) => Full(shape, 1.0, dtype);

    public static Tensor ZerosLike(Tensor t) => Zeros(t.Shape, t.DType);

    public static Tensor OnesLike(Tensor t) => Ones(t.Shape, t.DType);

    /// <summary>A tensor of <paramref name="shape"/> with every element equal to <paramref name="value"/>.</summary>
    public static Tensor Full(Shape shape, double value, DType dtype = DType.Float32)
    {
        var t = Empty(shape, dtype);
        t.FillRaw(value);
        return t;
    }

    /// <summary>A zero-dimensional tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32) => Full(Shape.Scalar, value, dtype);

    /// <summary>Values start, start+step, … below end (like <c>torch.arange</c>); Float32 unless told otherwise.</summary>
    /// <remarks>Integer arguments bind to <see cref="Arange(long, long, long, DType)"/> instead, which gives Int64 as
    /// PyTorch does for integer arguments.</remarks>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32)
    {
        if (step == 0) throw new ArgumentException("Arange: step must be non-zero");
        if (double.IsNaN(start) || double.IsNaN(end) || double.IsInfinity(start) || double.IsInfinity(end))
            throw new ArgumentException($"Arange: bounds must be finite, got [{start}, {end})");
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = start + i * step;
        return FromDoubles(values, new Shape(n), dtype);
    }

    public static Tensor Arange(int end, DType dtype = DType.Int64) => Arange(0, end, 1, dtype);

    /// <summary>Integers start, start+1, … below end, as Int64.</summary>
    // Without this overload Arange(5, 0) would bind to Arange(int, DType): C# converts the constant 0 to any enum.
    public static Tensor Arange(int start, int end) => Arange((long)start, end);

    /// <summary>
    /// Integers start, start+step, … below end (above it for a negative step), Int64 unless told otherwise, like
    /// <c>torch.arange</c> with integer arguments: <c>Arange(0, 5)</c> is [0, 1, 2, 3, 4] as Int64.
    /// </summary>
    public static Tensor Arange(long start, long end, long step = 1, DType dtype = DType.Int64)
    {
        if (step == 0) throw new ArgumentException("Arange: step must be non-zero");
        // Counted in 128 bits so that bounds near long's limits cannot overflow the arithmetic.
        Int128 span = step > 0 ? (Int128)end - start : (Int128)start - end;
        Int128 count = span <= 0 ? 0 : (span + Int128.Abs(step) - 1) / Int128.Abs(step);
        if (count > System.Array.MaxLength) throw new ArgumentException($"Arange: [{start}, {end}) with step {step} has {count} elements, too many for one tensor");
        int n = (int)count;
        if (dtype == DType.Int64)
        {
            var values = new long[n];
            for (int i = 0; i < n; i++) values[i] = start + i * step;
            return new Tensor(Storage<long>.Wrap(values), new Shape(n));
        }
        var doubles = new double[n];
        for (int i = 0; i < n; i++) doubles[i] = start + (double)i * step;
        return FromDoubles(doubles, new Shape(n), dtype);
    }

    /// <summary><paramref name="steps"/> values evenly spaced from start to end inclusive.</summary>
    public static Tensor Linspace(double start, double end, int steps, DType dtype = DType.Float32)
    {
        if (steps < 0) throw new ArgumentException($"Linspace: steps must be non-negative, got {steps}");
        var values = new double[steps];
        double delta = steps > 1 ? (end - start) / (steps - 1) : 0;
        for (int i = 0; i < steps; i++) values[i] = i == steps - 1 && steps > 1 ? end : start + i * delta;
        return FromDoubles(values, new Shape(steps), dtype);
    }

    /// <summary>An n×m matrix with ones on the diagonal.</summary>
    public static Tensor Eye(int n, int? m = null, DType dtype = DType.Float32)
    {
        int cols = m ?? n;
        var t = Zeros(new Shape(n, cols), dtype);
        var values = new double[n * cols];
        for (int i = 0; i < Math.Min(n, cols); i++) values[i * cols + i] = 1;
        return FromDoubles(values, t.Shape, dtype);
    }

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor Rand(Shape shape, Generator? generator = null, DType dtype = DType.Float32) => Uniform(shape, 0, 1, generator, dtype);

    public static Tensor Rand(params int[] shape) => Rand(new Shape(shape));

    /// <summary>Uniform samples in [low, high).</summary>
    public static Tensor Uniform(Shape shape, double low, double high, Generator? generator = null, DType dtype = DType.Float32)
    {
        RequireFloat(dtype, "Uniform");
        var g = generator ?? Generator.Default;
        var t = Empty(shape, dtype);
        if (dtype == DType.Float32)
        {
            var span = t.Data<float>();
            for (int i = 0; i < span.Length; i++) span[i] = (float)(low + (high - low) * g.NextDouble());
        }
        else
        {
            var span = t.Data<double>();
            for (int i = 0; i < span.Length; i++) span[i] = low + (high - low) * g.NextDouble();
        }
        return t;
    }

    /// <summary>Samples from the normal distribution with the given mean and standard deviation.</summary>
    public static Tensor Randn(Shape shape, Generator? generator = null, DType dtype = DType.Float32, double mean = 0, double std = 1)
    {
        RequireFloat(dtype, "Randn");
        var g = generator ?? Generator.Default;
        var t = Empty(shape, dtype);
        if (dtype == DType.Float32)
        {
            var span = t.Data<float>();
            for (int i = 0; i < span.Length; i++) span[i] = (float)(mean + std * g.NextNormal());
        }
        else
        {
            var span = t.Data<double>();
            for (int i = 0; i < span.Length; i++) span[i] = mean + std * g.NextNormal();
        }
        return t;
    }

    public static Tensor Randn(params int[] shape) => Randn(new Shape(shape));

    /// <summary>Integers drawn uniformly from [low, high).</summary>
    public static Tensor Randint(long low, long high, Shape shape, Generator? generator = null, DType dtype = DType.Int64)
    {
        if (high <= low) throw new ArgumentException($"Randint: empty range [{low}, {high})");
        var g = generator ?? Generator.Default;
        var values = new double[shape.Numel];
        for (int i = 0; i < values.Length; i++) values[i] = g.NextInt64(low, high);
        return FromDoubles(values, shape, dtype);
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/> with the given shape (1-D when none is given).</summary>
    public static Tensor FromArray<T>(T[] data, params int[] shape) where T : unmanaged => FromSpan<T>(data, shape.Length == 0 ? [data.Length] : shape);

    /// <summary>A tensor holding a copy of <paramref name="data"/> with the given shape.</summary>
    public static Tensor FromSpan<T>(ReadOnlySpan<T> data, params int[] shape) where T : unmanaged
    {
        var s = new Shape(shape);
        if (s.Numel != data.Length)
            throw new ArgumentException($"FromArray: {data.Length} elements cannot fill shape {s} ({s.Numel} elements)");
        var storage = Storage.Allocate(DTypeInfo.Of<T>(), data.Length, zeroed: false);
        data.CopyTo(((Storage<T>)storage).Span);
        return new Tensor(storage, s);
    }

    /// <summary>A tensor over <paramref name="data"/> itself, without copying: writes to either are seen by both.</summary>
    public static Tensor Wrap<T>(T[] data, params int[] shape) where T : unmanaged
    {
        var s = shape.Length == 0 ? new Shape(data.Length) : new Shape(shape);
        if (s.Numel != data.Length)
            throw new ArgumentException($"Wrap: {data.Length} elements cannot fill shape {s} ({s.Numel} elements)");
        return new Tensor(Storage<T>.Wrap(data), s);
    }

    /// <summary>A tensor of <paramref name="shape"/> over <paramref name="data"/> itself, without copying: writes to either are seen by both.</summary>
    public static Tensor Wrap<T>(T[] data, Shape shape) where T : unmanaged
    {
        if (shape.Numel != data.Length)
            throw new ArgumentException($"Wrap: {data.Length} elements cannot fill shape {shape} ({shape.Numel} elements)");
        return new Tensor(Storage<T>.Wrap(data), shape);
    }

    /// <summary>A 2-D tensor from a jagged array whose rows all have the same length.</summary>
    public static Tensor FromRows<T>(T[][] rows) where T : unmanaged
    {
        int cols = rows.Length == 0 ? 0 : rows[0].Length;
        var flat = new T[rows.Length * cols];
        for (int r = 0; r < rows.Length; r++)
        {
            if (rows[r].Length != cols) throw new ArgumentException($"FromRows: row {r} has {rows[r].Length} elements, row 0 has {cols}");
            rows[r].CopyTo(flat, r * cols);
        }
        return FromArray(flat, rows.Length, cols);
    }

    internal static Tensor FromDoubles(double[] values, Shape shape, DType dtype)
    {
        var t = new Tensor(Storage<double>.Wrap(values), shape);
        return dtype == DType.Float64 ? t : t.To(dtype);
    }

    private static void RequireFloat(DType dtype, string op)
    {
        if (!dtype.IsFloatingPoint()) throw new ArgumentException($"{op}: dtype must be float32 or float64, not {dtype.Name()}");
    }

    /// <summary>Sets every element (ignores autograd and the version counter; for freshly made tensors).</summary>
    private void FillRaw(double value)
    {
        switch (DType)
        {
            case DType.Float32: Data<float>().Fill((float)value); break;
            case DType.Float64: Data<double>().Fill(value); break;
            case DType.Int32: Data<int>().Fill(checked((int)value)); break;
            case DType.Int64: Data<long>().Fill(checked((long)value)); break;
            case DType.UInt8: Data<byte>().Fill(checked((byte)value)); break;
            case DType.Int8: Data<sbyte>().Fill(checked((sbyte)value)); break;
            case DType.Bool: Data<bool>().Fill(value != 0); break;
        }
    }
}
