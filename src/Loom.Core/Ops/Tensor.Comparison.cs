namespace Loom;

// Comparisons and selection. Comparisons and logical ops return Bool tensors and have no gradient.
//   where(c, a, b):      y = c ? a : b      da = dy where c (else 0), db = dy where !c; both reduced to their shapes
//   masked_fill(m, v):   y = m ? v : x      dx = dy where !m
public partial class Tensor
{
    private enum Comparison { Eq, Ne, Lt, Le, Gt, Ge }

    /// <summary>Element-wise a == b with broadcasting, as a Bool tensor.</summary>
    public Tensor Eq(Tensor other) => Compare(this, other, Comparison.Eq, "eq");
    public Tensor Ne(Tensor other) => Compare(this, other, Comparison.Ne, "ne");
    public Tensor Lt(Tensor other) => Compare(this, other, Comparison.Lt, "lt");
    public Tensor Le(Tensor other) => Compare(this, other, Comparison.Le, "le");
    public Tensor Gt(Tensor other) => Compare(this, other, Comparison.Gt, "gt");
    public Tensor Ge(Tensor other) => Compare(this, other, Comparison.Ge, "ge");

    public Tensor Eq(double value) => Compare(this, ScalarOperand(value), Comparison.Eq, "eq");
    public Tensor Ne(double value) => Compare(this, ScalarOperand(value), Comparison.Ne, "ne");
    public Tensor Lt(double value) => Compare(this, ScalarOperand(value), Comparison.Lt, "lt");
    public Tensor Le(double value) => Compare(this, ScalarOperand(value), Comparison.Le, "le");
    public Tensor Gt(double value) => Compare(this, ScalarOperand(value), Comparison.Gt, "gt");
    public Tensor Ge(double value) => Compare(this, ScalarOperand(value), Comparison.Ge, "ge");

    /// <summary>A zero-dimensional tensor holding <paramref name="value"/> in the dtype this tensor combines with it to.</summary>
    private Tensor ScalarOperand(double value) => Scalar(value, ScalarResultType(DType, value));

    private static Tensor Compare(Tensor a, Tensor b, Comparison kind, string op)
    {
        var shape = Shape.Broadcast(a.Shape, b.Shape, op);
        var dtype = TypePromotion.ResultType(a, b);
        if (dtype == DType.Bool) dtype = DType.UInt8; // false < true, as 0 < 1
        a = a.Detach().To(dtype);
        b = b.Detach().To(dtype);
        var result = Empty(shape, DType.Bool);
        switch (dtype)
        {
            case DType.Float32: CompareAs<float>(kind, a, b, result); break;
            case DType.Float64: CompareAs<double>(kind, a, b, result); break;
            case DType.Int32: CompareAs<int>(kind, a, b, result); break;
            case DType.Int64: CompareAs<long>(kind, a, b, result); break;
            case DType.UInt8: CompareAs<byte>(kind, a, b, result); break;
            case DType.Int8: CompareAs<sbyte>(kind, a, b, result); break;
        }
        return result;
    }

    private static void CompareAs<T>(Comparison kind, Tensor a, Tensor b, Tensor result) where T : unmanaged, INumber<T>
    {
        switch (kind)
        {
            case Comparison.Eq: BroadcastKernels.Compare<T, EqualOperator<T>>(a, b, result); break;
            case Comparison.Ne: BroadcastKernels.Compare<T, NotEqualOperator<T>>(a, b, result); break;
            case Comparison.Lt: BroadcastKernels.Compare<T, LessThanOperator<T>>(a, b, result); break;
            case Comparison.Le: BroadcastKernels.Compare<T, LessThanOrEqualOperator<T>>(a, b, result); break;
            case Comparison.Gt: BroadcastKernels.Compare<T, GreaterThanOperator<T>>(a, b, result); break;
            case Comparison.Ge: BroadcastKernels.Compare<T, GreaterThanOrEqualOperator<T>>(a, b, result); break;
        }
    }

    // ------------------------------------------------------------------ logical

    /// <summary>Element-wise AND with broadcasting; any dtype, non-zero counting as true.</summary>
    public Tensor LogicalAnd(Tensor other) => Logical<LogicalAndOperator>(this, other, "logical_and");

    public Tensor LogicalOr(Tensor other) => Logical<LogicalOrOperator>(this, other, "logical_or");

    public Tensor LogicalXor(Tensor other) => Logical<LogicalXorOperator>(this, other, "logical_xor");

    public Tensor LogicalNot() => Logical<LogicalXorOperator>(this, Scalar(1, DType.Bool), "logical_not");

    private static Tensor Logical<TOp>(Tensor a, Tensor b, string op) where TOp : IComparisonOperator<bool>
    {
        var result = Empty(Shape.Broadcast(a.Shape, b.Shape, op), DType.Bool);
        BroadcastKernels.Compare<bool, TOp>(a.Detach().To(DType.Bool), b.Detach().To(DType.Bool), result);
        return result;
    }

    // ------------------------------------------------------------------ NaN guards and value equality

    /// <summary>True where the element is NaN (never for integer dtypes).</summary>
    public Tensor IsNan() => Classify(nan: true);

    /// <summary>True where the element is neither infinite nor NaN (always for integer dtypes).</summary>
    public Tensor IsFinite() => Classify(nan: false);

    private Tensor Classify(bool nan)
    {
        if (!DType.IsFloatingPoint()) return Full(Shape, nan ? 0 : 1, DType.Bool);
        var x = Detach().Contiguous();
        var result = Empty(Shape, DType.Bool);
        var d = result.Data<bool>();
        switch (x.DType, nan)
        {
            case (DType.Float32, true): TensorPrimitives.IsNaN<float>(x.Data<float>(), d); break;
            case (DType.Float32, false): TensorPrimitives.IsFinite<float>(x.Data<float>(), d); break;
            case (DType.Float64, true): TensorPrimitives.IsNaN<double>(x.Data<double>(), d); break;
            default: TensorPrimitives.IsFinite<double>(x.Data<double>(), d); break;
        }
        return result;
    }

    /// <summary>True when any element is NaN or infinite (a cheap check for a training NaN guard).</summary>
    public bool HasNonFinite()
    {
        if (!DType.IsFloatingPoint()) return false;
        var x = Detach().Contiguous();
        return x.DType == DType.Float32
            ? !TensorPrimitives.IsFiniteAll<float>(x.Data<float>())
            : !TensorPrimitives.IsFiniteAll<double>(x.Data<double>());
    }

    /// <summary>
    /// Whether |this − other| ≤ atol + rtol·|other| everywhere, with broadcasting (as <c>torch.allclose</c>).
    /// NaNs compare equal only when <paramref name="equalNan"/>; infinities must match exactly.
    /// </summary>
    public bool AllClose(Tensor other, double rtol = 1e-5, double atol = 1e-8, bool equalNan = false)
    {
        var shape = Shape.Broadcast(Shape, other.Shape, "allclose");
        var a = Detach().BroadcastTo(shape).ToArray<double>();
        var b = other.Detach().BroadcastTo(shape).ToArray<double>();
        for (int i = 0; i < a.Length; i++)
        {
            double x = a[i], y = b[i];
            if (x == y) continue;
            if (double.IsNaN(x) || double.IsNaN(y))
            {
                if (equalNan && double.IsNaN(x) && double.IsNaN(y)) continue;
                return false;
            }
            if (double.IsInfinity(x) || double.IsInfinity(y)) return false; // unequal, and ∞ − ∞ ≤ ∞ would pass
            if (!(Math.Abs(x - y) <= atol + rtol * Math.Abs(y))) return false;
        }
        return true;
    }

    /// <summary>Whether both tensors have the same shape and equal elements (as <c>torch.equal</c>; dtypes may differ).</summary>
    public bool Equal(Tensor other)
    {
        if (Shape != other.Shape) return false;
        return !Eq(other).Data<bool>().Contains(false);
    }

    // ------------------------------------------------------------------ selection

    /// <summary>
    /// condition ? a : b element-wise, broadcasting all three (as <c>torch.where</c>). The condition must be Bool;
    /// a and b are promoted to a common dtype. Gradients flow to a where the condition holds and to b elsewhere.
    /// </summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b) => WhereCore(condition, a, b, "where");


    private static Tensor WhereCore(Tensor condition, Tensor a, Tensor b, string op)
    {
        if (condition.DType != DType.Bool)
            throw new ArgumentException($"{op}: condition must be a bool tensor, got {condition.DType.Name()} of shape {condition.Shape}");
        var shape = Shape.Broadcast(Shape.Broadcast(condition.Shape, a.Shape, op), b.Shape, op);
        var dtype = TypePromotion.ResultType(a, b);
        a = a.To(dtype);
        b = b.To(dtype);
        var result = Empty(shape, dtype);
        switch (dtype)
        {
            case DType.Float32: BroadcastKernels.Where<float>(condition, a, b, result); break;
            case DType.Float64: BroadcastKernels.Where<double>(condition, a, b, result); break;
            case DType.Int32: BroadcastKernels.Where<int>(condition, a, b, result); break;
            case DType.Int64: BroadcastKernels.Where<long>(condition, a, b, result); break;
            case DType.UInt8: BroadcastKernels.Where<byte>(condition, a, b, result); break;
            case DType.Int8: BroadcastKernels.Where<sbyte>(condition, a, b, result); break;
            case DType.Bool: BroadcastKernels.Where<bool>(condition, a, b, result); break;
        }
        return GradMode.ShouldRecord(a, b) ? new WhereBackward(op, condition, a, b).Attach(result) : result;
    }

    private sealed class WhereBackward : BackwardNode
    {
        private readonly SavedTensor _condition;
        private readonly Shape _aShape, _bShape;

        public WhereBackward(string op, Tensor condition, Tensor a, Tensor b) : base(op, a, b)
        {
            _condition = Save(condition);
            (_aShape, _bShape) = (a.Shape, b.Shape);
        }

        protected internal override Tensor?[] Apply(Tensor g)
        {
            var c = _condition.Value;
            var zero = Scalar(0, g.DType);
            return
            [
                NeedsGrad(0) ? WhereCore(c, g, zero, "where").SumToSize(_aShape) : null,
                NeedsGrad(1) ? WhereCore(c, zero, g, "where").SumToSize(_bShape) : null,
            ];
        }
    }
}
