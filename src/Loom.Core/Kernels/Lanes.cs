using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels;

/// <summary>
/// The arithmetic the recurrent cell kernels need, over one register width of <typeparamref name="T"/> (float or
/// double). Each cell formula is written once against this interface and instantiated for <see cref="Vector512{T}"/>,
/// <see cref="Vector256{T}"/> and a single scalar, so the three paths run the same operations in the same order
/// and give the same answers (only +, −, × and a select: no fused multiply-add whose rounding would differ).
/// </summary>
internal interface ILanes<TV, T> where TV : struct where T : unmanaged
{
    static abstract int Count { get; }
    static abstract TV One { get; }
    static abstract TV Load(ReadOnlySpan<T> source, int index);
    static abstract void Store(TV value, Span<T> destination, int index);
    static abstract TV Add(TV a, TV b);
    static abstract TV Subtract(TV a, TV b);
    static abstract TV Multiply(TV a, TV b);
    /// <summary>0 where <paramref name="test"/> ≤ 0, else <paramref name="value"/>: a NaN test passes the value, as PyTorch's threshold_backward.</summary>
    static abstract TV UnlessAtMostZero(TV test, TV value);
}

internal readonly struct Lanes512<T> : ILanes<Vector512<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Count => Vector512<T>.Count;
    public static Vector512<T> One => Vector512<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load(ReadOnlySpan<T> source, int index) => Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<T> value, Span<T> destination, int index) => value.StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Subtract(Vector512<T> a, Vector512<T> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Multiply(Vector512<T> a, Vector512<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> UnlessAtMostZero(Vector512<T> test, Vector512<T> value) => Vector512.ConditionalSelect(Vector512.LessThanOrEqual(test, Vector512<T>.Zero), Vector512<T>.Zero, value);
}

internal readonly struct Lanes256<T> : ILanes<Vector256<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Count => Vector256<T>.Count;
    public static Vector256<T> One => Vector256<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load(ReadOnlySpan<T> source, int index) => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<T> value, Span<T> destination, int index) => value.StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Subtract(Vector256<T> a, Vector256<T> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Multiply(Vector256<T> a, Vector256<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> UnlessAtMostZero(Vector256<T> test, Vector256<T> value) => Vector256.ConditionalSelect(Vector256.LessThanOrEqual(test, Vector256<T>.Zero), Vector256<T>.Zero, value);
}

internal readonly struct Lanes1<T> : ILanes<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Count => 1;
    public static T One => T.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Load(ReadOnlySpan<T> source, int index) => source[index];
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(T value, Span<T> destination, int index) => destination[index] = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Add(T a, T b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Subtract(T a, T b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Multiply(T a, T b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T UnlessAtMostZero(T test, T value) => test <= T.Zero ? T.Zero : value;
}
