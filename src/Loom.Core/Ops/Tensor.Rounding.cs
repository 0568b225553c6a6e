namespace Loom;

// Rounding, sign, and the divisions that round (Kernels/RoundingKernels.cs), with PyTorch's values:
//   floor, ceil, trunc, round (half to even; with decimals d, round(x·10ᵈ)/10ᵈ), sign (NaN → 0, as PyTorch):
//       dx = 0 (piecewise constant: the gradient PyTorch defines, so a straight-through estimator composes)
//   floor_divide:  y = ⌊a / b⌋                  not differentiable (PyTorch has no derivative either)
//   remainder:     y = a − ⌊a / b⌋·b (the sign of b, Python's %)    da = dy,  db = −dy·⌊a / b⌋
// Floats and Int32/Int64: rounding an integer tensor is a copy; integer floor_divide and remainder throw on a zero
// divisor (PyTorch raises ZeroDivisionError), float ones give ±∞/NaN as IEEE division does.
public partial class Tensor
{
    /// <summary>The largest integer ≤ x, element-wise (a copy for integer tensors).</summary>
    public Tensor Floor() => Rounded("floor", new FloorOperator<float>(), new FloorOperator<double>());

    /// <summary>The smallest integer ≥ x, element-wise (a copy for integer tensors).</summary>
    public Tensor Ceil() => Rounded("ceil", new CeilOperator<float>(), new CeilOperator<double>());

    /// <summary>x rounded towards zero, element-wise (a copy for integer tensors).</summary>
    public Tensor Trunc() => Rounded("trunc", new TruncOperator<float>(), new TruncOperator<double>());

    /// <summary>
    /// x rounded to the nearest integer, halves to even (like <c>torch.round</c>); with <paramref name="decimals"/>,
    /// to that many decimal places (negative: to tens, hundreds…), computed as PyTorch does: round(x·10ᵈ)/10ᵈ.
    /// </summary>
    public Tensor Round(int decimals = 0)
    {
        if (decimals == 0) return Rounded("round", new RoundOperator<float>(), new RoundOperator<double>());
        double scale = Math.Pow(10, Math.Abs(decimals));
        return Rounded("round", new RoundDecimalsOperator<float>((float)scale, decimals < 0), new RoundDecimalsOperator<double>(scale, decimals < 0));
    }

    /// <summary>−1, 0 or 1 by the sign of each element; 0 for ±0 and NaN (as PyTorch). Floats, Int32 and Int64.</summary>
    public Tensor Sign()
    {
        CheckArithmetic(DType, "sign", integers: true);
        var result = Empty(Shape, DType);
        switch (DType)
        {
            case DType.Float32: BroadcastKernels.Unary<float, SignOperator<float>>(this, result, new()); break;
            case DType.Float64: BroadcastKernels.Unary<double, SignOperator<double>>(this, result, new()); break;
            case DType.Int32: BroadcastKernels.Unary<int, SignOperator<int>>(this, result, new()); break;
            case DType.Int64: BroadcastKernels.Unary<long, SignOperator<long>>(this, result, new()); break;
        }
        return GradMode.ShouldRecord(this) ? new ZeroGradBackward("sign", this).Attach(result) : result;
    }

    /// <summary>⌊this / other⌋ element-wise with broadcasting (like <c>torch.floor_divide</c>); not differentiable.</summary>
    public Tensor FloorDivide(Tensor other) =>
        RoundingDivision<FloorDivideOperator<float>, FloorDivideOperator<double>, IntegerFloorDivideOperator<int>, IntegerFloorDivideOperator<long>>(
            other, "floor_divide").Result;

    /// <summary>⌊this / value⌋ element-wise.</summary>
    public Tensor FloorDivide(double value) => FloorDivide(ScalarFor(value));

    /// <summary>
    /// this − ⌊this / other⌋·other element-wise with broadcasting: the remainder with the divisor's sign, like
    /// <c>torch.remainder</c> and Python's %. Gradients: 1 for this, −⌊this / other⌋ for other.
    /// </summary>
    public Tensor Remainder(Tensor other)
    {
        var (a, b, result) = RoundingDivision<RemainderOperator<float>, RemainderOperator<double>, IntegerRemainderOperator<int>, IntegerRemainderOperator<long>>(
            other, "remainder");
        return GradMode.ShouldRecord(a, b) ? new RemainderBackward(a, b).Attach(result) : result;
    }

    /// <summary>this − ⌊this / value⌋·value element-wise.</summary>
    public Tensor Remainder(double value) => Remainder(ScalarFor(value));

    /// <summary>A scalar operand of this tensor's dtype, or Float32 for a fractional value with an integer tensor (the scalar rule).</summary>
    private Tensor ScalarFor(double value) => Scalar(value, ScalarResultType(DType, value));

    private Tensor Rounded<TF, TD>(string op, TF f, TD d) where TF : struct, IUnaryOperator<float> where TD : struct, IUnaryOperator<double>
    {
        if (DType is DType.Int32 or DType.Int64) return Clone();
        var result = MapFloat(op, f, d);
        return GradMode.ShouldRecord(this) ? new ZeroGradBackward(op, this).Attach(result) : result;
    }

    /// <summary>Broadcasts and promotes (the converted operands are returned, for a backward to attach to) and runs the operator.</summary>
    private (Tensor A, Tensor B, Tensor Result) RoundingDivision<TF, TD, TI, TL>(Tensor other, string op)
        where TF : IBinaryOperator<float> where TD : IBinaryOperator<double> where TI : IBinaryOperator<int> where TL : IBinaryOperator<long>
    {
        ArgumentNullException.ThrowIfNull(other);
        var shape = Shape.Broadcast(Shape, other.Shape, op);
        var dtype = TypePromotion.ResultType(this, other);
        RejectBool(op, DType, other.DType, dtype, anyOperand: false);
        var (a, b) = (To(dtype), other.To(dtype));
        if (!dtype.IsFloatingPoint() && b.Numel > 0 && b.Eq(0).Sum().Item() > 0)
            throw new DivideByZeroException($"{op}: integer division by zero (divisor of shape {other.Shape}, dtype {dtype.Name()})");
        var result = Empty(shape, dtype);
        RunBinary<TF, TD, TI, TL>(a, b, result);
        return (a, b, result);
    }

    /// <summary>Backward of a piecewise-constant op: a zero gradient of the input's shape.</summary>
    private sealed class ZeroGradBackward(string op, Tensor input) : BackwardNode(op, input)
    {
        private readonly Shape _shape = input.Shape;
        private readonly DType _dtype = input.DType;

        protected internal override Tensor?[] Apply(Tensor gradOutput) => [Zeros(_shape, _dtype)];
    }

    private sealed class RemainderBackward : BackwardNode
    {
        private readonly SavedTensor? _a, _b;

        public RemainderBackward(Tensor a, Tensor b) : base("remainder", a, b)
        {
            // Only b's gradient reads the operands: −dy·⌊a / b⌋.
            if (NeedsGrad(1)) (_a, _b) = (Save(a), Save(b));
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            Tensor? da = NeedsGrad(0) ? gradOutput.SumToSize(InputShape(0)) : null;
            Tensor? db = null;
            if (NeedsGrad(1))
            {
                var q = _a!.Value.FloorDivide(_b!.Value); // PyTorch's rounding too: div(rounding_mode='floor')
                db = gradOutput.Mul(q).Neg().SumToSize(InputShape(1));
            }
            return [da, db];
        }
    }
}
