namespace Loom.Kernels;

/// <summary>Which register width a kernel uses; <see cref="Auto"/> picks the widest the hardware accelerates.</summary>
internal enum VectorWidth
{
    Auto,
    W512,
    W256,
    Scalar,
}

/// <summary>
/// One register of <typeparamref name="T"/> and the operations kernels build on, so that each kernel is written once
/// and instantiated for <see cref="Vector512{T}"/> (<see cref="Simd512{T}"/>), <see cref="Vector256{T}"/>
/// (<see cref="Simd256{T}"/>) and a single <typeparamref name="T"/> (<see cref="Simd1{T}"/>). The implementations
/// are structs passed as type arguments, so the JIT specialises every kernel per width and inlines these calls: no
/// virtual calls remain. See Note [SIMD] in docs/notes/simd.md.
/// </summary>
/// <remarks>
/// Every operation rounds as IEEE 754 says (fused multiply-add included), so a formula built only from them gives
/// bit-identical results at every width: only <see cref="Log"/> comes from the runtime and may differ in the last ulp.
/// A comparison returns a mask (all bits set where true) for <see cref="Select"/>, <see cref="And"/> and
/// <see cref="Or"/>, as SIMD compares do.
/// </remarks>
internal interface ISimd<TV, T> where TV : struct where T : unmanaged
{
    static abstract int Count { get; }
    static abstract TV Zero { get; }
    static abstract TV One { get; }
    static abstract TV Create(T value);
    static abstract TV Load(ref readonly T source, nuint offset);
    static abstract void Store(TV value, ref T destination, nuint offset);
    static abstract TV Add(TV a, TV b);
    static abstract TV Subtract(TV a, TV b);
    static abstract TV Multiply(TV a, TV b);
    static abstract TV Divide(TV a, TV b);
    /// <summary>−x (the sign flipped: −0 for 0, unlike 0 − x).</summary>
    static abstract TV Negate(TV x);
    /// <summary>a·b + c with one rounding (float and double; integers need none).</summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);
    static abstract TV Sqrt(TV x);
    static abstract TV Abs(TV x);
    /// <summary>Maximum; NaN in either operand gives NaN.</summary>
    static abstract TV Max(TV a, TV b);
    /// <summary>Minimum; NaN in either operand gives NaN.</summary>
    static abstract TV Min(TV a, TV b);
    /// <summary>
    /// min(max(x, lo), hi) for bounds that are not NaN; NaN stays NaN. One max and one min instruction (where
    /// <see cref="Max"/> and <see cref="Min"/> spend more to order NaN and −0 in both operands).
    /// </summary>
    static abstract TV Clamp(TV x, TV lo, TV hi);
    /// <summary>
    /// min(x, hi) for a bound that is not NaN, as one vminps: NaN stays NaN, and x is returned where x = hi (so
    /// ±0 keep their sign against a zero bound). Cheaper than <see cref="Min"/>, which orders NaN and −0 in both operands.
    /// </summary>
    static abstract TV AtMost(TV x, TV hi);
    /// <summary>max(x, lo) for a bound that is not NaN, as one vmaxps: NaN stays NaN, x is returned where x = lo.</summary>
    static abstract TV AtLeast(TV x, TV lo);
    /// <summary>
    /// table[b &amp; 15] in each lane, b the lane of <paramref name="index"/> read as a 32-bit integer (a 32-bit
    /// <typeparamref name="T"/> only): one vpermps over a 16-entry table with AVX-512.
    /// </summary>
    static abstract TV Lookup16(ref readonly T table, TV index);
    /// <summary>
    /// Each lane's bits shifted right by <paramref name="count"/> as an unsigned integer (32- and 64-bit
    /// <typeparamref name="T"/>): a bit field of a float brought down to the index bits <see cref="Lookup16"/> reads.
    /// </summary>
    static abstract TV ShiftRightLogical(TV x, int count);
    /// <summary>To the nearest integer, ties to even.</summary>
    static abstract TV Round(TV x);
    /// <summary>
    /// x·2^⌊n⌋ (float and double), rounded once even when the result is subnormal; exact for x in [½, 2] while the
    /// result is normal, which is all <see cref="ExpKernels"/> and <see cref="TanhKernels"/>' exps need. n is floored
    /// as vscalefps does, so a table exp can pass k/16 for 2^⌊k/16⌋ without rounding it first.
    /// </summary>
    static abstract TV ScaleB(TV x, TV n);
    /// <summary>Natural logarithm, from the runtime (may differ between widths in the last ulp).</summary>
    static abstract TV Log(TV x);
    static abstract TV Equal(TV a, TV b);
    static abstract TV GreaterThan(TV a, TV b);
    static abstract TV LessThan(TV a, TV b);
    static abstract TV IsNaN(TV x);
    static abstract TV And(TV a, TV b);
    static abstract TV Or(TV a, TV b);
    static abstract TV Select(TV mask, TV ifTrue, TV ifFalse);
    /// <summary>Bit i set where lane i of the mask is set.</summary>
    static abstract ulong MaskBits(TV mask);
    /// <summary>The lanes added up (in no fixed order).</summary>
    static abstract T Sum(TV x);
    /// <summary>Count bytes, each zero-extended to one lane (integer <typeparamref name="T"/>).</summary>
    static abstract TV LoadBytes(ref readonly byte source, nuint offset);
    /// <summary>Count floats, each converted to one lane (<typeparamref name="T"/> = double).</summary>
    static abstract TV LoadSingles(ref readonly float source, nuint offset);
    /// <summary>destination[offset + k] += x[k] for the Count lanes of x, widened to double (<typeparamref name="T"/> = float).</summary>
    static abstract void AddWidened(TV x, ref double destination, nuint offset);
}

/// <summary>
/// The body of an element-wise loop: <see cref="Step{TV, TS}"/> handles elements [i, i + TS.Count), loading and
/// storing its own operands. <see cref="Simd.For{T, TStep}"/> runs it.
/// </summary>
internal interface ISimdStep<T> where T : unmanaged
{
    void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T>;
}

/// <summary>An element-wise function y = f(x) written once over <see cref="ISimd{TV, T}"/>; <see cref="MapStep{T, TMap}"/> runs it over spans.</summary>
internal interface ISimdMap<T> where T : unmanaged
{
    static abstract TV Apply<TV, TS>(TV x) where TV : struct where TS : ISimd<TV, T>;
}

/// <summary>y[i] = f(x[i]) for <see cref="Simd.For{T, TStep}"/>, so that a pure function needs no step of its own.</summary>
internal readonly ref struct MapStep<T, TMap>(ReadOnlySpan<T> x, Span<T> y) : ISimdStep<T> where T : unmanaged where TMap : ISimdMap<T>
{
    private readonly ReadOnlySpan<T> x = x;
    private readonly Span<T> y = y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T> =>
        TS.Store(TMap.Apply<TV, TS>(TS.Load(in MemoryMarshal.GetReference(x), i)), ref MemoryMarshal.GetReference(y), i);
}

/// <summary>
/// An element-wise function z = f(x, y) of two operands written once over <see cref="ISimd{TV, T}"/>;
/// <see cref="BinaryMapStep{T, TMap}"/> runs it over spans.
/// </summary>
internal interface ISimdBinaryMap<T> where T : unmanaged
{
    static abstract TV Apply<TV, TS>(TV x, TV y) where TV : struct where TS : ISimd<TV, T>;
}

/// <summary>z[i] = f(x[i], y[i]) for <see cref="Simd.For{T, TStep}"/>: <see cref="MapStep{T, TMap}"/> for two operands.</summary>
internal readonly ref struct BinaryMapStep<T, TMap>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z) : ISimdStep<T>
    where T : unmanaged where TMap : ISimdBinaryMap<T>
{
    private readonly ReadOnlySpan<T> x = x, y = y;
    private readonly Span<T> z = z;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T> =>
        TS.Store(TMap.Apply<TV, TS>(TS.Load(in MemoryMarshal.GetReference(x), i), TS.Load(in MemoryMarshal.GetReference(y), i)),
            ref MemoryMarshal.GetReference(z), i);
}

/// <summary>A kernel that runs at one width from start to end (a reduction, whose order depends on the width).</summary>
internal interface ISimdKernel<T, TResult> where T : unmanaged
{
    TResult Run<TV, TS>() where TV : struct where TS : ISimd<TV, T>;
}

/// <summary>Width detection and the two drivers every kernel dispatches through.</summary>
internal static class Simd
{
    /// <summary>The widest width the hardware accelerates: decided at run time, never assumed.</summary>
    /// <remarks>
    /// An expression of JIT intrinsics, not a static readonly value: the JIT folds it to a constant in every method,
    /// also in methods compiled before this class is initialised (kernel entry points are AggressiveOptimization and
    /// the loom executable turns off quick JIT for loops, so no later tier would fold a static readonly field).
    /// </remarks>
    public static VectorWidth Best
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.IsHardwareAccelerated ? VectorWidth.W512 : Vector256.IsHardwareAccelerated ? VectorWidth.W256 : VectorWidth.Scalar;
    }

    /// <summary>The width to run: <see cref="Best"/> for Auto, and a forced width only where the hardware has it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VectorWidth Resolve(VectorWidth width) => width switch
    {
        VectorWidth.Auto => Best,
        VectorWidth.W512 => Best,
        VectorWidth.W256 when Best == VectorWidth.Scalar => VectorWidth.Scalar,
        _ => width,
    };

    /// <summary>
    /// Runs <paramref name="step"/> over [0, n): the chosen width first, then narrower widths down to single elements
    /// for what is left. A step built from IEEE operations gives the same answer at every width, so an element's
    /// result does not depend on where it sits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void For<T, TStep>(TStep step, int n, VectorWidth width = VectorWidth.Auto)
        where T : unmanaged, INumber<T> where TStep : ISimdStep<T>, allows ref struct
    {
        nuint i = 0, end = (nuint)n;
        var resolved = Resolve(width);
        if (resolved == VectorWidth.W512) i = Steps<Vector512<T>, Simd512<T>, T, TStep>(step, i, end);
        if (resolved != VectorWidth.Scalar) i = Steps<Vector256<T>, Simd256<T>, T, TStep>(step, i, end);
        Steps<T, Simd1<T>, T, TStep>(step, i, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint Steps<TV, TS, T, TStep>(TStep step, nuint i, nuint end)
        where TV : struct where TS : ISimd<TV, T> where T : unmanaged where TStep : ISimdStep<T>, allows ref struct
    {
        nuint w = (nuint)TS.Count;
        if (end < w) return i;
        for (nuint last = end - w; i <= last; i += w) step.Step<TV, TS>(i);
        return i;
    }

    /// <summary>Runs <paramref name="kernel"/> at the resolved width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TResult Run<T, TResult, TKernel>(TKernel kernel, VectorWidth width = VectorWidth.Auto)
        where T : unmanaged, INumber<T> where TKernel : ISimdKernel<T, TResult>, allows ref struct => Resolve(width) switch
        {
            VectorWidth.W512 => kernel.Run<Vector512<T>, Simd512<T>>(),
            VectorWidth.W256 => kernel.Run<Vector256<T>, Simd256<T>>(),
            _ => kernel.Run<T, Simd1<T>>(),
        };
}

/// <summary>Formulas written once over <see cref="ISimd{TV, T}"/> that several kernels evaluate.</summary>
internal static class SimdMath
{
    // Polynomials take their coefficients as arguments, constant term first: after inlining, the evaluation is a
    // straight-line chain of fused multiply-adds on broadcast constants (a loop over a coefficient table is not
    // unrolled by the JIT, and measured slower).

    /// <summary>dy where ReLU's output y is above 0 or NaN, else 0 (PyTorch's threshold_backward).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ReluGradient<TV, TS, T>(TV dy, TV y) where TV : struct where TS : ISimd<TV, T> where T : unmanaged =>
        TS.Select(TS.Or(TS.LessThan(y, TS.Zero), TS.Equal(y, TS.Zero)), TS.Zero, dy);

    /// <summary>dy·(1 − y²): the gradient through tanh from its output y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV TanhGradient<TV, TS, T>(TV dy, TV y) where TV : struct where TS : ISimd<TV, T> where T : unmanaged =>
        TS.Multiply(dy, TS.Subtract(TS.One, TS.Multiply(y, y)));

    /// <summary>(dy·y)·(1 − y): the gradient through the sigmoid from its output y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV SigmoidGradient<TV, TS, T>(TV dy, TV y) where TV : struct where TS : ISimd<TV, T> where T : unmanaged =>
        TS.Multiply(TS.Multiply(dy, y), TS.Subtract(TS.One, y));

    /// <summary>c0 + c1·x + … + c5·x⁵ by Horner's rule.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Polynomial<TV, TS>(TV x, float c0, float c1, float c2, float c3, float c4, float c5) where TV : struct where TS : ISimd<TV, float>
    {
        var r = TS.MultiplyAdd(TS.Create(c5), x, TS.Create(c4));
        r = TS.MultiplyAdd(r, x, TS.Create(c3));
        r = TS.MultiplyAdd(r, x, TS.Create(c2));
        r = TS.MultiplyAdd(r, x, TS.Create(c1));
        return TS.MultiplyAdd(r, x, TS.Create(c0));
    }

    /// <summary>c0 + c1·x + … + c8·x⁸ by Horner's rule (the top six coefficients first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Polynomial<TV, TS>(TV x, float c0, float c1, float c2, float c3, float c4, float c5, float c6, float c7, float c8)
        where TV : struct where TS : ISimd<TV, float>
    {
        var r = Polynomial<TV, TS>(x, c3, c4, c5, c6, c7, c8);
        r = TS.MultiplyAdd(r, x, TS.Create(c2));
        r = TS.MultiplyAdd(r, x, TS.Create(c1));
        return TS.MultiplyAdd(r, x, TS.Create(c0));
    }
}
