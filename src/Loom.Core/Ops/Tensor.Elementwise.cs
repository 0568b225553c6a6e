namespace Loom;

// Shared plumbing of the element-wise ops (Arithmetic, Math, Activations, Comparison, InPlace): dtype rules and the
// dispatch from a tensor's dtype to a kernel instantiated for its element type.
//
// Dtype rules: TypePromotion (PyTorch's result_type), for tensor ∘ tensor and tensor ∘ scalar alike. Ops defined on
// floats only (true division) take the promoted dtype to float32 when it is an integer or bool. uint8, int8 and bool
// results are computed in int32 and converted back, which wraps as PyTorch's narrow integer arithmetic does.
public partial class Tensor
{
    /// <summary>The dtype of this tensor combined with a scalar operand.</summary>
    internal static DType ScalarResultType(DType dtype, double value) => TypePromotion.ResultType(dtype, value);

    /// <summary>The dtype a binary kernel runs in for a result of <paramref name="dtype"/>: narrow integers and bool run in int32.</summary>
    private static DType KernelType(DType dtype) => dtype is DType.UInt8 or DType.Int8 or DType.Bool ? DType.Int32 : dtype;

    /// <summary>Throws unless <paramref name="dtype"/> is Float32 or Float64.</summary>
    internal static void CheckFloat(DType dtype, string op)
    {
        if (!dtype.IsFloatingPoint())
            throw new NotSupportedException($"{op}: dtype {dtype.Name()} is not supported (float32 or float64 only); convert with To(DType.Float32)");
    }

    /// <summary>Throws unless <paramref name="dtype"/> is a float or, when allowed, Int32/Int64.</summary>
    internal static void CheckArithmetic(DType dtype, string op, bool integers)
    {
        if (dtype.IsFloatingPoint() || (integers && dtype is DType.Int32 or DType.Int64)) return;
        throw new NotSupportedException(integers
            ? $"{op}: dtype {dtype.Name()} is not supported (float32, float64, int32 or int64 only)"
            : $"{op}: dtype {dtype.Name()} is not supported (float32 or float64 only); convert with To(DType.Float32)");
    }

    /// <summary>
    /// Broadcast shape, operands converted to the result dtype (<see cref="TypePromotion"/>) and an uninitialised
    /// result for a binary op. <paramref name="integers"/> false: the op is defined on floats only (true division),
    /// so an integer or bool result type becomes float32.
    /// </summary>
    private static (Tensor A, Tensor B, Tensor Result) PrepareBinary(Tensor a, Tensor b, string op, bool integers)
    {
        var shape = Shape.Broadcast(a.Shape, b.Shape, op);
        var dtype = TypePromotion.ResultType(a, b);
        if (!integers) dtype = TypePromotion.ToFloating(dtype);
        return (a.To(dtype), b.To(dtype), Empty(shape, dtype));
    }

    /// <summary>Throws as PyTorch does for arithmetic that bool does not have (subtraction; pow, floor division and remainder of two bools).</summary>
    private static void RejectBool(string op, DType a, DType b, DType result, bool anyOperand)
    {
        if (anyOperand ? a == DType.Bool || b == DType.Bool : result == DType.Bool)
            throw new ArgumentException(op == "sub"
                ? "sub: subtraction with a bool tensor is not supported; use LogicalXor, or LogicalNot for 1 − x"
                : $"{op}: not defined for bool tensors; convert with To(DType.Int64)");
    }

    /// <summary>result = op(a, b) for a binary operator available for floats and Int32/Int64 (narrow integers and bool run in Int32).</summary>
    private static void RunBinary<TF, TD, TI, TL>(Tensor a, Tensor b, Tensor result)
        where TF : IBinaryOperator<float> where TD : IBinaryOperator<double> where TI : IBinaryOperator<int> where TL : IBinaryOperator<long>
    {
        switch (result.DType)
        {
            case DType.Float32: BroadcastKernels.Binary<float, TF>(a, b, result); break;
            case DType.Float64: BroadcastKernels.Binary<double, TD>(a, b, result); break;
            case DType.Int32: BroadcastKernels.Binary<int, TI>(a, b, result); break;
            case DType.Int64: BroadcastKernels.Binary<long, TL>(a, b, result); break;
            default:
                var wide = Empty(result.Shape, DType.Int32);
                BroadcastKernels.Binary<int, TI>(a.To(DType.Int32), b.To(DType.Int32), wide);
                result.CopyFrom(wide);
                break;
        }
    }

    /// <summary>result = op(a, b) for a float-only binary operator.</summary>
    private static void RunBinary<TF, TD>(Tensor a, Tensor b, Tensor result)
        where TF : IBinaryOperator<float> where TD : IBinaryOperator<double>
    {
        if (result.DType == DType.Float32) BroadcastKernels.Binary<float, TF>(a, b, result);
        else BroadcastKernels.Binary<double, TD>(a, b, result);
    }

    /// <summary>x ∘ c (or c ∘ x when <paramref name="scalarFirst"/>) into result, for a scalar operand c.</summary>
    private static void RunScalar<T, TOp>(Tensor x, T c, bool scalarFirst, Tensor result) where T : unmanaged where TOp : IBinaryOperator<T>
    {
        if (scalarFirst) BroadcastKernels.Unary<T, ScalarLeftOperator<T, TOp>>(x, result, new(c));
        else BroadcastKernels.Unary<T, ScalarRightOperator<T, TOp>>(x, result, new(c));
    }

    /// <summary>This tensor ∘ a scalar, converted to the scalar result dtype; returns the (possibly converted) input and the result.</summary>
    private (Tensor X, Tensor Result) ScalarBinary<TF, TD, TI, TL>(double value, bool scalarFirst, string op, bool integers)
        where TF : IBinaryOperator<float> where TD : IBinaryOperator<double> where TI : IBinaryOperator<int> where TL : IBinaryOperator<long>
    {
        var dtype = ScalarResultType(DType, value);
        if (!integers) dtype = TypePromotion.ToFloating(dtype);
        if (op is "sub" or "rsub") RejectBool(op == "rsub" ? "sub" : op, DType, DType, dtype, anyOperand: true);
        var x = To(dtype);
        var result = Empty(Shape, dtype);
        switch (dtype)
        {
            case DType.Float32: RunScalar<float, TF>(x, (float)value, scalarFirst, result); break;
            case DType.Float64: RunScalar<double, TD>(x, value, scalarFirst, result); break;
            case DType.Int32: RunScalar<int, TI>(x, checked((int)value), scalarFirst, result); break;
            case DType.Int64: RunScalar<long, TL>(x, checked((long)value), scalarFirst, result); break;
            default:
                // Narrow integers run in int32 and wrap back, as PyTorch's uint8/int8 arithmetic wraps.
                var wide = Empty(Shape, DType.Int32);
                RunScalar<int, TI>(x.To(DType.Int32), checked((int)value), scalarFirst, wide);
                result.CopyFrom(wide);
                break;
        }
        return (x, result);
    }

    /// <summary>A float-only unary op: allocates the result and runs the kernel for this tensor's dtype.</summary>
    private Tensor MapFloat<TF, TD>(string op, TF f, TD d) where TF : struct, IUnaryOperator<float> where TD : struct, IUnaryOperator<double>
    {
        CheckFloat(DType, op);
        var result = Empty(Shape, DType);
        if (DType == DType.Float32) BroadcastKernels.Unary<float, TF>(this, result, f);
        else BroadcastKernels.Unary<double, TD>(this, result, d);
        return result;
    }

    /// <summary>A float-only activation (a vectorised formula from <see cref="ActivationKernels"/>).</summary>
    private Tensor MapActivation<TOp>(string op, TOp activation) where TOp : struct, IActivation
    {
        var adapter = new ActivationOperator<TOp>(activation);
        return MapFloat(op, adapter, adapter);
    }

    /// <summary>dx = op(gradOutput, saved) element-wise with a fused backward kernel; split across threads when large.</summary>
    internal static Tensor FusedBackward<TOp>(Tensor gradOutput, Tensor saved, TOp op) where TOp : struct, IActivationBackward
    {
        var s = saved.Contiguous();
        var g = (gradOutput.DType == s.DType ? gradOutput : gradOutput.To(s.DType)).Contiguous();
        var result = Empty(s.Shape, s.DType);
        int n = result.Numel;
        // State tuples and static lambdas: no closure per call (an RNN's backward runs this once per time step).
        if (s.DType == DType.Float32)
        {
            ParallelHelper.For(n, BroadcastKernels.ParallelGrain, (G: g.Array<float>(), GO: g.Offset, S: s.Array<float>(), SO: s.Offset, D: result.Array<float>(), DO: result.Offset, Op: op),
                static (x, a, b) => ActivationKernels.Apply(x.G.AsSpan(x.GO + a, b - a), x.S.AsSpan(x.SO + a, b - a), x.D.AsSpan(x.DO + a, b - a), x.Op));
        }
        else
        {
            ParallelHelper.For(n, BroadcastKernels.ParallelGrain, (G: g.Array<double>(), GO: g.Offset, S: s.Array<double>(), SO: s.Offset, D: result.Array<double>(), DO: result.Offset, Op: op),
                static (x, a, b) => ActivationKernels.Apply(x.G.AsSpan(x.GO + a, b - a), x.S.AsSpan(x.SO + a, b - a), x.D.AsSpan(x.DO + a, b - a), x.Op));
        }
        return result;
    }

    /// <summary>Backward of ops whose local derivative is a constant: dx = factor · dy.</summary>
    private sealed class ScaleBackward(string op, Tensor input, double factor) : BackwardNode(op, input)
    {
        protected internal override Tensor?[] Apply(Tensor gradOutput) => [factor == 1 ? gradOutput : gradOutput.Mul(factor)];
    }
}
