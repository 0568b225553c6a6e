using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

// The three widths of ISimd. Operations on float or double only branch on typeof(T), which the JIT folds away in each
// specialisation. These two vector structs are the only place the widths are written out; kernels never are.

/// <summary>512-bit registers. Used only where <see cref="Vector512.IsHardwareAccelerated"/> (see <see cref="Simd.Resolve"/>).</summary>
internal readonly struct Simd512<T> : ISimd<Vector512<T>, T> where T : unmanaged, INumber<T>
{
    public static int Count => Vector512<T>.Count;
    public static Vector512<T> Zero => Vector512<T>.Zero;
    public static Vector512<T> One => Vector512<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Create(T value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Load(ref readonly T source, nuint offset) => Vector512.LoadUnsafe(in source, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<T> value, ref T destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Subtract(Vector512<T> a, Vector512<T> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Multiply(Vector512<T> a, Vector512<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Divide(Vector512<T> a, Vector512<T> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Negate(Vector512<T> x) => -x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Sqrt(Vector512<T> x) => Vector512.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Abs(Vector512<T> x) => Vector512.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Max(Vector512<T> a, Vector512<T> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Min(Vector512<T> a, Vector512<T> b) => Vector512.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Equal(Vector512<T> a, Vector512<T> b) => Vector512.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> GreaterThan(Vector512<T> a, Vector512<T> b) => Vector512.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> LessThan(Vector512<T> a, Vector512<T> b) => Vector512.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> IsNaN(Vector512<T> x) => Vector512.IsNaN(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> And(Vector512<T> a, Vector512<T> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Or(Vector512<T> a, Vector512<T> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Select(Vector512<T> mask, Vector512<T> ifTrue, Vector512<T> ifFalse) => Vector512.ConditionalSelect(mask, ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong MaskBits(Vector512<T> mask) => mask.ExtractMostSignificantBits();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(Vector512<T> x) => Vector512.Sum(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MultiplyAdd(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Clamp(Vector512<T> x, Vector512<T> lo, Vector512<T> hi)
    {
        // vmaxps/vminps return their second operand when either is NaN, so x goes second.
        if (typeof(T) == typeof(float)) return Avx512F.Min(hi.AsSingle(), Avx512F.Max(lo.AsSingle(), x.AsSingle())).As<float, T>();
        if (typeof(T) == typeof(double)) return Avx512F.Min(hi.AsDouble(), Avx512F.Max(lo.AsDouble(), x.AsDouble())).As<double, T>();
        return Vector512.Min(hi, Vector512.Max(lo, x));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> AtMost(Vector512<T> x, Vector512<T> hi)
    {
        if (typeof(T) == typeof(float)) return Avx512F.Min(hi.AsSingle(), x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Avx512F.Min(hi.AsDouble(), x.AsDouble()).As<double, T>();
        return Vector512.Min(hi, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> AtLeast(Vector512<T> x, Vector512<T> lo)
    {
        if (typeof(T) == typeof(float)) return Avx512F.Max(lo.AsSingle(), x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Avx512F.Max(lo.AsDouble(), x.AsDouble()).As<double, T>();
        return Vector512.Max(lo, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Lookup16(ref readonly T table, Vector512<T> index)
    {
        if (Unsafe.SizeOf<T>() != 4) throw new NotSupportedException($"lookup: no kernel for {typeof(T).Name}");
        return Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(in table).AsSingle(), index.AsInt32()).As<float, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> ShiftRightLogical(Vector512<T> x, int count) => Unsafe.SizeOf<T>() switch
    {
        4 => Vector512.ShiftRightLogical(x.AsUInt32(), count).As<uint, T>(),
        8 => Vector512.ShiftRightLogical(x.AsUInt64(), count).As<ulong, T>(),
        _ => throw new NotSupportedException($"shift: no kernel for {typeof(T).Name}"),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Round(Vector512<T> x)
    {
        if (typeof(T) == typeof(float)) return Vector512.Round(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.Round(x.AsDouble()).As<double, T>();
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> ScaleB(Vector512<T> x, Vector512<T> n)
    {
        if (typeof(T) == typeof(float)) return Avx512F.Scale(x.AsSingle(), n.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Avx512F.Scale(x.AsDouble(), n.AsDouble()).As<double, T>();
        throw new NotSupportedException($"scaleb: no kernel for {typeof(T).Name}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Log(Vector512<T> x)
    {
        if (typeof(T) == typeof(float)) return Vector512.Log(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.Log(x.AsDouble()).As<double, T>();
        throw new NotSupportedException($"log: no kernel for {typeof(T).Name}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> LoadBytes(ref readonly byte source, nuint offset)
    {
        if (typeof(T) == typeof(byte)) return Vector512.LoadUnsafe(in source, offset).As<byte, T>();
        if (typeof(T) == typeof(int)) return Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(in source, offset)).As<int, T>();
        if (typeof(T) == typeof(long)) return Avx512F.ConvertToVector512Int64(SimdBytes.Load8(in source, offset)).As<long, T>();
        throw new NotSupportedException($"bytes: no widening to {typeof(T).Name}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddWidened(Vector512<T> x, ref double destination, nuint offset)
    {
        if (typeof(T) != typeof(float)) throw new NotSupportedException($"widening: no kernel for {typeof(T).Name}");
        var (low, high) = Vector512.Widen(x.AsSingle());
        (Vector512.LoadUnsafe(ref destination, offset) + low).StoreUnsafe(ref destination, offset);
        offset += (nuint)Vector512<double>.Count;
        (Vector512.LoadUnsafe(ref destination, offset) + high).StoreUnsafe(ref destination, offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> LoadSingles(ref readonly float source, nuint offset)
    {
        if (typeof(T) == typeof(double)) return Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(in source, offset)).As<double, T>();
        throw new NotSupportedException($"singles: no widening to {typeof(T).Name}");
    }
}

/// <summary>256-bit registers (AVX2); <see cref="ScaleB"/> uses AVX-512VL where the CPU has it, else two exact multiplies.</summary>
internal readonly struct Simd256<T> : ISimd<Vector256<T>, T> where T : unmanaged, INumber<T>
{
    public static int Count => Vector256<T>.Count;
    public static Vector256<T> Zero => Vector256<T>.Zero;
    public static Vector256<T> One => Vector256<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Create(T value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Load(ref readonly T source, nuint offset) => Vector256.LoadUnsafe(in source, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<T> value, ref T destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Subtract(Vector256<T> a, Vector256<T> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Multiply(Vector256<T> a, Vector256<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Divide(Vector256<T> a, Vector256<T> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Negate(Vector256<T> x) => -x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Sqrt(Vector256<T> x) => Vector256.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Abs(Vector256<T> x) => Vector256.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Max(Vector256<T> a, Vector256<T> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Min(Vector256<T> a, Vector256<T> b) => Vector256.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Equal(Vector256<T> a, Vector256<T> b) => Vector256.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> GreaterThan(Vector256<T> a, Vector256<T> b) => Vector256.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> LessThan(Vector256<T> a, Vector256<T> b) => Vector256.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> IsNaN(Vector256<T> x) => Vector256.IsNaN(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> And(Vector256<T> a, Vector256<T> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Or(Vector256<T> a, Vector256<T> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Select(Vector256<T> mask, Vector256<T> ifTrue, Vector256<T> ifFalse) => Vector256.ConditionalSelect(mask, ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong MaskBits(Vector256<T> mask) => mask.ExtractMostSignificantBits();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(Vector256<T> x) => Vector256.Sum(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MultiplyAdd(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Clamp(Vector256<T> x, Vector256<T> lo, Vector256<T> hi)
    {
        // vmaxps/vminps return their second operand when either is NaN, so x goes second.
        if (typeof(T) == typeof(float)) return Avx.Min(hi.AsSingle(), Avx.Max(lo.AsSingle(), x.AsSingle())).As<float, T>();
        if (typeof(T) == typeof(double)) return Avx.Min(hi.AsDouble(), Avx.Max(lo.AsDouble(), x.AsDouble())).As<double, T>();
        return Vector256.Min(hi, Vector256.Max(lo, x));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> AtMost(Vector256<T> x, Vector256<T> hi)
    {
        if (typeof(T) == typeof(float)) return Avx.Min(hi.AsSingle(), x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Avx.Min(hi.AsDouble(), x.AsDouble()).As<double, T>();
        return Vector256.Min(hi, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> AtLeast(Vector256<T> x, Vector256<T> lo)
    {
        if (typeof(T) == typeof(float)) return Avx.Max(lo.AsSingle(), x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Avx.Max(lo.AsDouble(), x.AsDouble()).As<double, T>();
        return Vector256.Max(lo, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Lookup16(ref readonly T table, Vector256<T> index)
    {
        if (Unsafe.SizeOf<T>() != 4) throw new NotSupportedException($"lookup: no kernel for {typeof(T).Name}");
        var lower = Vector256.LoadUnsafe(in table).AsSingle();
        var upper = Vector256.LoadUnsafe(in table, 8).AsSingle();
        if (Avx512F.VL.IsSupported) return Avx512F.VL.PermuteVar8x32x2(lower, index.AsInt32(), upper).As<float, T>();
        return Lookup16Avx2(lower, index.AsInt32(), upper).As<float, T>();
    }

    /// <summary>The AVX2 form of <see cref="Lookup16"/> (internal so that tests run it on AVX-512 machines too).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Lookup16Avx2(Vector256<float> lower, Vector256<int> index, Vector256<float> upper)
    {
        // vpermps reads three bits of the index; bit 3 picks the half, moved into the sign bit that vblendvps reads.
        return Avx.BlendVariable(Avx2.PermuteVar8x32(lower, index), Avx2.PermuteVar8x32(upper, index), Avx2.ShiftLeftLogical(index, 28).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> ShiftRightLogical(Vector256<T> x, int count) => Unsafe.SizeOf<T>() switch
    {
        4 => Vector256.ShiftRightLogical(x.AsUInt32(), count).As<uint, T>(),
        8 => Vector256.ShiftRightLogical(x.AsUInt64(), count).As<ulong, T>(),
        _ => throw new NotSupportedException($"shift: no kernel for {typeof(T).Name}"),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Round(Vector256<T> x)
    {
        if (typeof(T) == typeof(float)) return Vector256.Round(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.Round(x.AsDouble()).As<double, T>();
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> ScaleB(Vector256<T> x, Vector256<T> n)
    {
        if (typeof(T) == typeof(double)) return ScaleB64(x.AsDouble(), n.AsDouble()).As<double, T>();
        if (typeof(T) != typeof(float)) throw new NotSupportedException($"scaleb: no kernel for {typeof(T).Name}");
        if (Avx512F.VL.IsSupported) return Avx512F.VL.Scale(x.AsSingle(), n.AsSingle()).As<float, T>();
        return ScaleBAvx2(x.AsSingle(), n.AsSingle()).As<float, T>();
    }

    /// <summary>The AVX2 form of <see cref="ScaleB"/> for float (internal so that tests run it on AVX-512 machines too).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ScaleBAvx2(Vector256<float> x, Vector256<float> n)
    {
        // x·2^h·2^(k−h) with k = ⌊n⌋ and h = ⌊k/2⌋: for x in [½, 2] the first product is exact and normal down to
        // k = −252, so the one rounding is the second's, as with vscalefps. Beyond ±252 the result is 0 or ∞ either way.
        var k = Vector256.Clamp(Vector256.ConvertToInt32(Vector256.Floor(n)), Vector256.Create(-252), Vector256.Create(254));
        var h = Vector256.ShiftRightArithmetic(k, 1);
        return x * PowerOfTwo(h) * PowerOfTwo(k - h);

        static Vector256<float> PowerOfTwo(Vector256<int> e) => Vector256.ShiftLeft(e + Vector256.Create(127), 23).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> ScaleB64(Vector256<double> x, Vector256<double> n)
    {
        if (Avx512F.VL.IsSupported) return Avx512F.VL.Scale(x, n);
        // As for float, with h = ⌊k/2⌋ and k clamped to [−2044, 2046]. AVX2 has no double-to-int64 conversion, so the
        // integral k is read from the low bits of k + 1.5·2⁵² (exact below 2⁵¹), which also carry the bias 1023.
        var k = Avx.Min(Vector256.Create(2046.0), Avx.Max(Vector256.Create(-2044.0), Vector256.Floor(n)));
        var h = Vector256.Floor(k * Vector256.Create(0.5));
        return x * PowerOfTwo(h) * PowerOfTwo(k - h);

        static Vector256<double> PowerOfTwo(Vector256<double> e) =>
            Vector256.ShiftLeft((e + Vector256.Create(6755399441056768.0 + 1023)).AsUInt64(), 52).AsDouble();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Log(Vector256<T> x)
    {
        if (typeof(T) == typeof(float)) return Vector256.Log(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.Log(x.AsDouble()).As<double, T>();
        throw new NotSupportedException($"log: no kernel for {typeof(T).Name}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> LoadBytes(ref readonly byte source, nuint offset)
    {
        if (typeof(T) == typeof(byte)) return Vector256.LoadUnsafe(in source, offset).As<byte, T>();
        if (typeof(T) == typeof(int)) return Avx2.ConvertToVector256Int32(SimdBytes.Load8(in source, offset)).As<int, T>();
        if (typeof(T) == typeof(long)) return Avx2.ConvertToVector256Int64(SimdBytes.Load4(in source, offset)).As<long, T>();
        throw new NotSupportedException($"bytes: no widening to {typeof(T).Name}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddWidened(Vector256<T> x, ref double destination, nuint offset)
    {
        if (typeof(T) != typeof(float)) throw new NotSupportedException($"widening: no kernel for {typeof(T).Name}");
        var (low, high) = Vector256.Widen(x.AsSingle());
        (Vector256.LoadUnsafe(ref destination, offset) + low).StoreUnsafe(ref destination, offset);
        offset += (nuint)Vector256<double>.Count;
        (Vector256.LoadUnsafe(ref destination, offset) + high).StoreUnsafe(ref destination, offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> LoadSingles(ref readonly float source, nuint offset)
    {
        if (typeof(T) == typeof(double)) return Avx.ConvertToVector256Double(Vector128.LoadUnsafe(in source, offset)).As<double, T>();
        throw new NotSupportedException($"singles: no widening to {typeof(T).Name}");
    }
}

/// <summary>One element at a time: the path without SIMD, and the tail of every element-wise loop.</summary>
internal readonly struct Simd1<T> : ISimd<T, T> where T : unmanaged, INumber<T>
{
    // A constant the JIT folds in every method (a static readonly field is folded only once the class is initialised).
    private static T True
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector128<T>.AllBitsSet.ToScalar();
    }

    public static int Count => 1;
    public static T Zero => T.Zero;
    public static T One => T.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Create(T value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Load(ref readonly T source, nuint offset) => Unsafe.Add(ref Unsafe.AsRef(in source), offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(T value, ref T destination, nuint offset) => Unsafe.Add(ref destination, offset) = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Add(T a, T b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Subtract(T a, T b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Multiply(T a, T b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Divide(T a, T b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Negate(T x) => -x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Abs(T x) => T.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Max(T a, T b) => T.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Min(T a, T b) => T.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Equal(T a, T b) => a == b ? True : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T GreaterThan(T a, T b) => a > b ? True : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T LessThan(T a, T b) => a < b ? True : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T IsNaN(T x) => T.IsNaN(x) ? True : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T And(T a, T b) => FromBits(Bits(a) & Bits(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Or(T a, T b) => FromBits(Bits(a) | Bits(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Select(T mask, T ifTrue, T ifFalse) => Bits(mask) != 0 ? ifTrue : ifFalse;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong MaskBits(T mask) => Bits(mask) != 0 ? 1UL : 0UL;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(T x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T LoadBytes(ref readonly byte source, nuint offset) => T.CreateTruncating(Unsafe.Add(ref Unsafe.AsRef(in source), offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T LoadSingles(ref readonly float source, nuint offset) => T.CreateTruncating(Unsafe.Add(ref Unsafe.AsRef(in source), offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddWidened(T x, ref double destination, nuint offset) => Unsafe.Add(ref destination, offset) += double.CreateTruncating(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MultiplyAdd(T a, T b, T c)
    {
        if (typeof(T) == typeof(float)) return Unsafe.BitCast<float, T>(MathF.FusedMultiplyAdd(Unsafe.BitCast<T, float>(a), Unsafe.BitCast<T, float>(b), Unsafe.BitCast<T, float>(c)));
        if (typeof(T) == typeof(double)) return Unsafe.BitCast<double, T>(Math.FusedMultiplyAdd(Unsafe.BitCast<T, double>(a), Unsafe.BitCast<T, double>(b), Unsafe.BitCast<T, double>(c)));
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sqrt(T x)
    {
        if (typeof(T) == typeof(float)) return Unsafe.BitCast<float, T>(MathF.Sqrt(Unsafe.BitCast<T, float>(x)));
        if (typeof(T) == typeof(double)) return Unsafe.BitCast<double, T>(Math.Sqrt(Unsafe.BitCast<T, double>(x)));
        throw new NotSupportedException($"sqrt: no kernel for {typeof(T).Name}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Clamp(T x, T lo, T hi) => T.Min(hi, T.Max(lo, x));

    // As vminps(hi, x) and vmaxps(lo, x): the bound only where it compares strictly less (greater), else x.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T AtMost(T x, T hi) => hi < x ? hi : x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T AtLeast(T x, T lo) => lo > x ? lo : x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Lookup16(ref readonly T table, T index)
    {
        if (Unsafe.SizeOf<T>() != 4) throw new NotSupportedException($"lookup: no kernel for {typeof(T).Name}");
        return Unsafe.Add(ref Unsafe.AsRef(in table), (nint)(Bits(index) & 15));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T ShiftRightLogical(T x, int count) => FromBits(Bits(x) >> count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Round(T x)
    {
        if (typeof(T) == typeof(float)) return Unsafe.BitCast<float, T>(MathF.Round(Unsafe.BitCast<T, float>(x)));
        if (typeof(T) == typeof(double)) return Unsafe.BitCast<double, T>(Math.Round(Unsafe.BitCast<T, double>(x)));
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T ScaleB(T x, T n)
    {
        if (typeof(T) == typeof(double))
        {
            // As Simd256 without AVX-512.
            long k64 = Math.Clamp((long)Math.Floor(Unsafe.BitCast<T, double>(n)), -2044, 2046), h64 = k64 >> 1;
            return Unsafe.BitCast<double, T>(Unsafe.BitCast<T, double>(x) * PowerOfTwo64(h64) * PowerOfTwo64(k64 - h64));
        }
        if (typeof(T) != typeof(float)) throw new NotSupportedException($"scaleb: no kernel for {typeof(T).Name}");
        // As Simd256 without AVX-512 (MathF.ScaleB gives the same values, but through a call and branches).
        int k = Math.Clamp((int)MathF.Floor(Unsafe.BitCast<T, float>(n)), -252, 254), h = k >> 1;
        return Unsafe.BitCast<float, T>(Unsafe.BitCast<T, float>(x) * PowerOfTwo(h) * PowerOfTwo(k - h));

        static float PowerOfTwo(int e) => BitConverter.Int32BitsToSingle((e + 127) << 23);
        static double PowerOfTwo64(long e) => BitConverter.Int64BitsToDouble((e + 1023) << 52);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Log(T x)
    {
        if (typeof(T) == typeof(float)) return Unsafe.BitCast<float, T>(MathF.Log(Unsafe.BitCast<T, float>(x)));
        if (typeof(T) == typeof(double)) return Unsafe.BitCast<double, T>(Math.Log(Unsafe.BitCast<T, double>(x)));
        throw new NotSupportedException($"log: no kernel for {typeof(T).Name}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Bits(T value) => Unsafe.SizeOf<T>() switch
    {
        1 => Unsafe.BitCast<T, byte>(value),
        2 => Unsafe.BitCast<T, ushort>(value),
        4 => Unsafe.BitCast<T, uint>(value),
        _ => Unsafe.BitCast<T, ulong>(value),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T FromBits(ulong bits) => Unsafe.SizeOf<T>() switch
    {
        1 => Unsafe.BitCast<byte, T>((byte)bits),
        2 => Unsafe.BitCast<ushort, T>((ushort)bits),
        4 => Unsafe.BitCast<uint, T>((uint)bits),
        _ => Unsafe.BitCast<ulong, T>(bits),
    };
}

/// <summary>Narrow loads of mask bytes for <see cref="ISimd{TV, T}.LoadBytes"/>: 8 or 4 bytes into the low lanes of a Vector128.</summary>
file static class SimdBytes
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Load8(ref readonly byte source, nuint offset) =>
        Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(in Unsafe.Add(ref Unsafe.AsRef(in source), offset))).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Load4(ref readonly byte source, nuint offset) =>
        Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<int>(in Unsafe.Add(ref Unsafe.AsRef(in source), offset))).AsByte();
}
