namespace Loom.Kernels;

// Operators for Tensor.Rounding.cs. Rounding is exact, so TensorPrimitives' vector forms are used as they are; sign
// is written over ISimd; floor division and remainder are plain loops written to give PyTorch's values bit for bit (its
// div_floor/remainder algorithms: fmod first, then a correction, so that neither overflows nor rounds twice).

internal readonly struct FloorOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Floor(x, d);
}

internal readonly struct CeilOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Ceiling(x, d);
}

internal readonly struct TruncOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Truncate(x, d);
}

/// <summary>Round half to even, as <c>torch.round</c>.</summary>
internal readonly struct RoundOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Round(x, d);
}

/// <summary>
/// round(x·10ᵈ)/10ᵈ for d &gt; 0 and round(x/10⁻ᵈ)·10⁻ᵈ for d &lt; 0, as <c>torch.round(decimals=d)</c> computes it (so the
/// same float rounding happens on both sides).
/// </summary>
internal readonly struct RoundDecimalsOperator<T>(T scale, bool negative) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d)
    {
        for (int i = 0; i < x.Length; i++)
            d[i] = negative ? T.Round(x[i] / scale) * scale : T.Round(x[i] * scale) / scale;
    }
}

/// <summary>−1, 0 or 1 by the sign of x; 0 for ±0 and, as PyTorch, for NaN.</summary>
internal readonly struct SignOperator<T> : IUnaryOperator<T> where T : unmanaged, INumber<T>
{
    public void Invoke(ReadOnlySpan<T> x, Span<T> d) => Apply(x, d);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Apply(ReadOnlySpan<T> x, Span<T> d, VectorWidth width = VectorWidth.Auto) => Simd.For<T, SignStep<T>>(new(x, d), x.Length, width);

    /// <summary>(x &gt; 0) − (x &lt; 0) as masks of one: both comparisons are false for ±0 and NaN.</summary>
    private readonly ref struct SignStep<TT>(ReadOnlySpan<TT> x, Span<TT> d) : ISimdStep<TT> where TT : unmanaged
    {
        private readonly ReadOnlySpan<TT> x = x;
        private readonly Span<TT> d = d;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, TT>
        {
            var v = TS.Load(in MemoryMarshal.GetReference(x), i);
            var sign = TS.Subtract(TS.And(TS.GreaterThan(v, TS.Zero), TS.One), TS.And(TS.LessThan(v, TS.Zero), TS.One));
            TS.Store(sign, ref MemoryMarshal.GetReference(d), i);
        }
    }
}

/// <summary>
/// ⌊x / y⌋ for floats as PyTorch's div_floor: (x − fmod(x, y)) / y is exact or nearly, corrected by one where the
/// remainder's sign differs from y's and rounded to the nearest integer; y = 0 gives x / y (±∞ or NaN).
/// </summary>
internal readonly struct FloorDivideOperator<T> : IScalarBinaryOperator<FloorDivideOperator<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T a, T b)
    {
        if (b == T.Zero) return a / b;
        T mod = a % b; // C's fmod: x − trunc(x/y)·y, exact, with the sign of x
        T div = (a - mod) / b;
        if (mod != T.Zero && (b < T.Zero) != (mod < T.Zero)) div -= T.One;
        if (div == T.Zero) return T.CopySign(T.Zero, a / b);
        T floor = T.Floor(div);
        if (div - floor > T.CreateTruncating(0.5)) floor += T.One;
        return floor;
    }
}

/// <summary>x − ⌊x / y⌋·y with the sign of y (Python's %), as PyTorch's remainder: fmod, plus y where the signs differ.</summary>
internal readonly struct RemainderOperator<T> : IScalarBinaryOperator<RemainderOperator<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T a, T b)
    {
        T mod = a % b;
        if (mod != T.Zero && (b < T.Zero) != (mod < T.Zero)) mod += b;
        return mod;
    }
}

/// <summary>⌊x / y⌋ for integers (the caller has ruled out y = 0).</summary>
internal readonly struct IntegerFloorDivideOperator<T> : IScalarBinaryOperator<IntegerFloorDivideOperator<T>, T> where T : unmanaged, IBinaryInteger<T>
{
    public static T Invoke(T a, T b)
    {
        T q = a / b; // truncates towards zero
        return (a % b != T.Zero) && ((a < T.Zero) != (b < T.Zero)) ? q - T.One : q;
    }
}

/// <summary>Integer remainder with the sign of the divisor (the caller has ruled out y = 0).</summary>
internal readonly struct IntegerRemainderOperator<T> : IScalarBinaryOperator<IntegerRemainderOperator<T>, T> where T : unmanaged, IBinaryInteger<T>
{
    public static T Invoke(T a, T b)
    {
        T mod = a % b;
        return mod != T.Zero && (b < T.Zero) != (mod < T.Zero) ? mod + b : mod;
    }
}
