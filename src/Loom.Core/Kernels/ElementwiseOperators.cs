namespace Loom.Kernels;

// Operator structs for the element-wise drivers in BroadcastKernels. Passed as generic arguments, they let the JIT
// specialise each driver per op and inline the call, so hot loops have no delegates or virtual calls (the pattern of
// TensorPrimitives' IBinaryOperator). Binary operators have no parameters and use static abstract members like
// TensorPrimitives; unary operators are struct *instances* because some carry parameters (a clamp's bounds, a
// scalar operand, LeakyRelu's slope); a generic method over a struct type parameter is specialised just the same.

/// <summary>A parameterless binary operator with a span form for each operand shape a broadcast row can take.</summary>
internal interface IBinaryOperator<T> where T : unmanaged
{
    static abstract T Invoke(T x, T y);
    static abstract void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination);
    static abstract void Invoke(ReadOnlySpan<T> x, T y, Span<T> destination);
    static abstract void Invoke(T x, ReadOnlySpan<T> y, Span<T> destination);
}

/// <summary>
/// An operator with x ∘ y = y ∘ x, so c ∘ y is computed as y ∘ c: TensorPrimitives has the (span, scalar) form of
/// Add, Multiply, Min and Max but not the (scalar, span) one.
/// </summary>
internal interface ICommutativeOperator<TSelf, T> : IBinaryOperator<T>
    where T : unmanaged where TSelf : ICommutativeOperator<TSelf, T>
{
    static void IBinaryOperator<T>.Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TSelf.Invoke(y, x, d);
}

/// <summary>An operator defined by its scalar Invoke: the span forms are plain loops over it, written here once.</summary>
internal interface IScalarBinaryOperator<TSelf, T> : IBinaryOperator<T>
    where T : unmanaged where TSelf : IScalarBinaryOperator<TSelf, T>
{
    static void IBinaryOperator<T>.Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d)
    {
        for (int i = 0; i < d.Length; i++) d[i] = TSelf.Invoke(x[i], y[i]);
    }

    static void IBinaryOperator<T>.Invoke(ReadOnlySpan<T> x, T y, Span<T> d)
    {
        for (int i = 0; i < d.Length; i++) d[i] = TSelf.Invoke(x[i], y);
    }

    static void IBinaryOperator<T>.Invoke(T x, ReadOnlySpan<T> y, Span<T> d)
    {
        for (int i = 0; i < d.Length; i++) d[i] = TSelf.Invoke(x, y[i]);
    }
}

/// <summary>A unary operator over a span, possibly carrying parameters.</summary>
internal interface IUnaryOperator<T> where T : unmanaged
{
    void Invoke(ReadOnlySpan<T> x, Span<T> destination);
}

/// <summary>A predicate of two values, producing the Bool result of a comparison.</summary>
internal interface IComparisonOperator<T> where T : unmanaged
{
    static abstract bool Invoke(T x, T y);
}

internal readonly struct AddOperator<T> : ICommutativeOperator<AddOperator<T>, T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T x, T y) => x + y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Add(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Add(x, y, d);
}

internal readonly struct SubtractOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T x, T y) => x - y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
}

internal readonly struct MultiplyOperator<T> : ICommutativeOperator<MultiplyOperator<T>, T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T x, T y) => x * y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Multiply(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Multiply(x, y, d);
}

internal readonly struct DivideOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => x / y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Divide(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Divide(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Divide(x, y, d);
}

internal readonly struct PowOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => T.Pow(x, y);
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Pow(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Pow(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Pow(x, y, d);
}

/// <summary>Element-wise minimum; NaN wins, as in <c>torch.minimum</c>.</summary>
internal readonly struct MinimumOperator<T> : ICommutativeOperator<MinimumOperator<T>, T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T x, T y) => T.Min(x, y);
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Min(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Min(x, y, d);
}

/// <summary>Element-wise maximum; NaN wins, as in <c>torch.maximum</c>.</summary>
internal readonly struct MaximumOperator<T> : ICommutativeOperator<MaximumOperator<T>, T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T x, T y) => T.Max(x, y);
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Max(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Max(x, y, d);
}

/// <summary>x ∘ c for a fixed scalar c: a binary operator turned unary.</summary>
internal readonly struct ScalarRightOperator<T, TOp>(T y) : IUnaryOperator<T>
    where T : unmanaged where TOp : IBinaryOperator<T>
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d) => TOp.Invoke(x, y, d);
}

/// <summary>c ∘ x for a fixed scalar c.</summary>
internal readonly struct ScalarLeftOperator<T, TOp>(T x) : IUnaryOperator<T>
    where T : unmanaged where TOp : IBinaryOperator<T>
{
    public void Invoke(ReadOnlySpan<T> y, Span<T> d) => TOp.Invoke(x, y, d);
}

internal readonly struct CopyOperator<T> : IUnaryOperator<T> where T : unmanaged
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d) => x.CopyTo(d);
}

internal readonly struct NegateOperator<T> : IUnaryOperator<T> where T : unmanaged, INumber<T>
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Negate(x, d);
}

internal readonly struct AbsOperator<T> : IUnaryOperator<T> where T : unmanaged, INumber<T>
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Abs(x, d);
}

/// <summary>
/// A unary operator that is one span function (<see cref="UnaryFunctions{T}"/>): a single type holding a function
/// pointer rather than a struct per function. The call is indirect, but drivers make it once per row or chunk.
/// </summary>
internal readonly unsafe struct SpanFunction<T>(delegate*<ReadOnlySpan<T>, Span<T>, void> function) : IUnaryOperator<T> where T : unmanaged
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d) => function(x, d);
}

/// <summary>The span functions behind the floating-point unary math ops.</summary>
internal static unsafe class UnaryFunctions<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static SpanFunction<T> Sqrt => new(&TensorPrimitives.Sqrt<T>);
    public static SpanFunction<T> Rsqrt => new(&TensorPrimitives.ReciprocalSqrt<T>);
    public static SpanFunction<T> Exp => new(&ExpOf);
    public static SpanFunction<T> Log => new(&TensorPrimitives.Log<T>);
    public static SpanFunction<T> Square => new(&SquareOf);
    public static SpanFunction<T> Reciprocal => new(&TensorPrimitives.Reciprocal<T>);
    public static SpanFunction<T> Sin => new(&TensorPrimitives.Sin<T>);
    public static SpanFunction<T> Cos => new(&TensorPrimitives.Cos<T>);
    public static SpanFunction<T> Sigmoid => new(&TensorPrimitives.Sigmoid<T>);
    public static SpanFunction<T> Tanh => new(&TanhKernels.Tanh<T>);

    private static void SquareOf(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Multiply(x, x, d);

    private static void ExpOf(ReadOnlySpan<T> x, Span<T> d) => ExpKernels.Exp(x, d);
}

/// <summary>min(max(x, lo), hi), with NaN propagating; a missing bound is ±∞.</summary>
internal readonly struct ClampOperator<T>(T min, T max) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d)
    {
        // Max then Min rather than TensorPrimitives.Clamp, which throws when min > max; PyTorch defines that case
        // as "everything becomes max", which this order gives.
        TensorPrimitives.Max(x, min, d);
        TensorPrimitives.Min(d, max, d);
    }
}

internal readonly struct EqualOperator<T> : IComparisonOperator<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x == y;
}

internal readonly struct NotEqualOperator<T> : IComparisonOperator<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x != y;
}

internal readonly struct LessThanOperator<T> : IComparisonOperator<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x < y;
}

internal readonly struct LessThanOrEqualOperator<T> : IComparisonOperator<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x <= y;
}

internal readonly struct GreaterThanOperator<T> : IComparisonOperator<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x > y;
}

internal readonly struct GreaterThanOrEqualOperator<T> : IComparisonOperator<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T x, T y) => x >= y;
}

internal readonly struct LogicalAndOperator : IComparisonOperator<bool>
{
    public static bool Invoke(bool x, bool y) => x & y;
}

internal readonly struct LogicalOrOperator : IComparisonOperator<bool>
{
    public static bool Invoke(bool x, bool y) => x | y;
}

internal readonly struct LogicalXorOperator : IComparisonOperator<bool>
{
    public static bool Invoke(bool x, bool y) => x ^ y;
}

/// <summary>
/// Integer xʸ by squaring, wrapping on overflow as PyTorch's integer pow does. A negative exponent gives 0 unless
/// |x| = 1 (x⁻ⁿ truncated toward zero).
/// </summary>
internal readonly struct IntegerPowOperator<T> : IScalarBinaryOperator<IntegerPowOperator<T>, T> where T : unmanaged, IBinaryInteger<T>
{
    public static T Invoke(T x, T y)
    {
        if (T.IsNegative(y)) return x == T.One ? T.One : x == -T.One ? (T.IsEvenInteger(y) ? T.One : -T.One) : T.Zero;
        T result = T.One;
        while (y != T.Zero)
        {
            if (T.IsOddInteger(y)) result = unchecked(result * x);
            x = unchecked(x * x);
            y >>= 1;
        }
        return result;
    }
}

/// <summary>Stands in for the integer instantiation of a float-only op; dtype checks make it unreachable.</summary>
internal readonly struct NoIntegerOperator<T> : IBinaryOperator<T> where T : unmanaged
{
    public static T Invoke(T x, T y) => throw Unsupported();
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => throw Unsupported();
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => throw Unsupported();
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => throw Unsupported();

    private static NotSupportedException Unsupported() => new($"this op does not support {typeof(T).Name} elements");
}
