namespace Loom;

/// <summary>
/// PyTorch's type promotion (<c>torch.result_type</c>). This is the one place that decides the dtype of an op whose
/// operands differ in dtype. Every binary op, comparison, where, cat and stack asks it.
/// </summary>
/// <remarks>
/// Dtypes fall into three categories: bool &lt; integer &lt; floating. Operands are of three kinds, by priority:
/// tensors with dimensions, zero-dimensional tensors, and scalars (a C# double here). A lower kind decides the dtype
/// only when its category is higher than that of every operand of the kinds above it:
/// <list type="bullet">
/// <item>a float32 tensor with a float64 zero-dim tensor stays float32;</item>
/// <item>an int32 tensor with a float64 zero-dim tensor gives float64;</item>
/// <item>an int32 tensor with an int64 zero-dim tensor stays int32;</item>
/// <item>an integer tensor with a fractional scalar gives float32, the default float dtype;</item>
/// <item>a bool tensor with an integral scalar gives int64.</item>
/// </list>
/// Within one kind, <see cref="DTypeInfo.Promote"/> applies: wider beats narrower, float beats integer. One difference
/// from PyTorch: uint8 with int8 gives int32, because Loom has no int16. A C# double cannot tell 2 from 2.0, so an
/// integral value counts as an integer scalar (Python's 2), and any other value (including ±∞ and NaN) as a float
/// scalar.
/// </remarks>
public static class TypePromotion
{
    private enum Category { None = -1, Bool, Integer, Floating }

    /// <summary>The dtype of a binary op on <paramref name="a"/> and <paramref name="b"/>, as <c>torch.result_type(a, b)</c>.</summary>
    public static DType ResultType(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        DType? dimensioned = null, zeroDim = null;
        foreach (var t in (ReadOnlySpan<Tensor>)[a, b])
        {
            if (t.Rank > 0) dimensioned = dimensioned is DType d ? DTypeInfo.Promote(d, t.DType) : t.DType;
            else zeroDim = zeroDim is DType z ? DTypeInfo.Promote(z, t.DType) : t.DType;
        }
        return Combine(dimensioned, zeroDim);
    }

    /// <summary>The dtype of a binary op on <paramref name="tensor"/> and a scalar, as <c>torch.result_type(tensor, value)</c>.</summary>
    public static DType ResultType(Tensor tensor, double value)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return ResultType(tensor.DType, value);
    }

    /// <summary>The dtype that <see cref="Tensor.Cat"/> and <see cref="Tensor.Stack"/> give: all operands promote as tensors with dimensions.</summary>
    public static DType ResultType(IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("result_type: no tensors");
        var dtype = tensors[0].DType;
        for (int i = 1; i < tensors.Count; i++) dtype = DTypeInfo.Promote(dtype, tensors[i].DType);
        return dtype;
    }

    /// <summary>A tensor of <paramref name="dtype"/> with a scalar <paramref name="value"/>.</summary>
    internal static DType ResultType(DType dtype, double value)
    {
        bool integral = value == Math.Floor(value) && !double.IsInfinity(value);
        return Combine(dtype, null, integral ? DType.Int64 : DType.Float32);
    }

    /// <summary>The dtype of true division (and of other ops that are only defined on floats): integers and bool divide into float32.</summary>
    internal static DType ToFloating(DType dtype) => dtype.IsFloatingPoint() ? dtype : DType.Float32;

    private static Category Of(DType? dtype) => dtype switch
    {
        null => Category.None,
        DType.Bool => Category.Bool,
        DType.Float32 or DType.Float64 => Category.Floating,
        _ => Category.Integer,
    };

    /// <summary>
    /// The result dtype from the promoted dtype of each kind of operand (null when there is none of that kind). A scalar
    /// that wins brings the default dtype of its category (int64 or float32), not its own.
    /// </summary>
    private static DType Combine(DType? dimensioned, DType? zeroDim, DType? scalar = null)
    {
        var result = dimensioned;
        if (Of(zeroDim) > Of(result)) result = zeroDim;
        if (Of(scalar) > Of(result)) result = scalar;
        return result ?? throw new ArgumentException("result_type: no operands");
    }
}
