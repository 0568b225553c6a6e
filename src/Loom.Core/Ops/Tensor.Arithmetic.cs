namespace Loom;

// Binary arithmetic with NumPy broadcasting. Every gradient is reduced back to its input's shape (SumToSize), the
// adjoint of broadcasting.
//   add:      y = a + b        da = dy                      db = dy
//   sub:      y = a − b        da = dy                      db = −dy
//   mul:      y = a · b        da = dy · b                  db = dy · a
//   div:      y = a / b        da = dy / b                  db = −dy · a / b²
//   pow:      y = aᵇ           da = dy · b · aᵇ⁻¹           db = dy · y · ln a   (0 where a = 0 and b ≥ 0, as PyTorch)
//   pow(a,p): y = aᵖ           da = dy · p · aᵖ⁻¹           (0 when p = 0)
//   minimum:  y = min(a, b)    da = dy where a < b, dy/2 where a = b, else 0; db symmetric
//   maximum:  y = max(a, b)    da = dy where a > b, dy/2 where a = b, else 0; db symmetric
// Scalar operands (double) take the tensor's dtype (see Tensor.Elementwise.cs); their gradient is not computed.
public partial class Tensor
{
    /// <summary>Element-wise a + b with broadcasting; dtypes promote as in PyTorch (<see cref="TypePromotion"/>).</summary>
    public Tensor Add(Tensor other)
    {
        var (a, b, result) = PrepareBinary(this, other, "add", integers: true);
        RunBinary<AddOperator<float>, AddOperator<double>, AddOperator<int>, AddOperator<long>>(a, b, result);
        return GradMode.ShouldRecord(a, b) ? new AddBackward("add", a, b, negateB: false).Attach(result) : result;
    }

    /// <summary>Element-wise a − b with broadcasting (not for bool, as in PyTorch).</summary>
    public Tensor Sub(Tensor other)
    {
        RejectBool("sub", DType, other.DType, DType, anyOperand: true);
        var (a, b, result) = PrepareBinary(this, other, "sub", integers: true);
        RunBinary<SubtractOperator<float>, SubtractOperator<double>, SubtractOperator<int>, SubtractOperator<long>>(a, b, result);
        return GradMode.ShouldRecord(a, b) ? new AddBackward("sub", a, b, negateB: true).Attach(result) : result;
    }

    /// <summary>Element-wise a · b with broadcasting.</summary>
    public Tensor Mul(Tensor other)
    {
        var (a, b, result) = PrepareBinary(this, other, "mul", integers: true);
        RunBinary<MultiplyOperator<float>, MultiplyOperator<double>, MultiplyOperator<int>, MultiplyOperator<long>>(a, b, result);
        return GradMode.ShouldRecord(a, b) ? new MulBackward(a, b).Attach(result) : result;
    }

    /// <summary>Element-wise true division a / b with broadcasting: integer and bool operands divide into float32, as in PyTorch.</summary>
    public Tensor Div(Tensor other)
    {
        var (a, b, result) = PrepareBinary(this, other, "div", integers: false);
        RunBinary<DivideOperator<float>, DivideOperator<double>>(a, b, result);
        return GradMode.ShouldRecord(a, b) ? new DivBackward(a, b).Attach(result) : result;
    }

    /// <summary>Element-wise aᵇ with broadcasting; integers give integers (a negative exponent gives 0 unless |a| = 1).</summary>
    public Tensor Pow(Tensor exponent)
    {
        var (a, b, result) = PrepareBinary(this, exponent, "pow", integers: true);
        RejectBool("pow", a.DType, b.DType, result.DType, anyOperand: false);
        RunBinary<PowOperator<float>, PowOperator<double>, IntegerPowOperator<int>, IntegerPowOperator<long>>(a, b, result);
        if (!GradMode.ShouldRecord(a, b)) return result;
        return new PowBackward(a, b, result).Attach(result);
    }

    /// <summary>Element-wise minimum with broadcasting; NaN propagates. At ties the gradient is split evenly.</summary>
    public Tensor Minimum(Tensor other)
    {
        var (a, b, result) = PrepareBinary(this, other, "minimum", integers: true);
        RunBinary<MinimumOperator<float>, MinimumOperator<double>, MinimumOperator<int>, MinimumOperator<long>>(a, b, result);
        return GradMode.ShouldRecord(a, b) ? new MinMaxBackward("minimum", a, b).Attach(result) : result;
    }

    /// <summary>Element-wise maximum with broadcasting; NaN propagates. At ties the gradient is split evenly.</summary>
    public Tensor Maximum(Tensor other)
    {
        var (a, b, result) = PrepareBinary(this, other, "maximum", integers: true);
        RunBinary<MaximumOperator<float>, MaximumOperator<double>, MaximumOperator<int>, MaximumOperator<long>>(a, b, result);
        return GradMode.ShouldRecord(a, b) ? new MinMaxBackward("maximum", a, b).Attach(result) : result;
    }

    // ------------------------------------------------------------------ scalar operands

    public Tensor Add(double value)
    {
        var (x, result) = ScalarBinary<AddOperator<float>, AddOperator<double>, AddOperator<int>, AddOperator<long>>(value, false, "add", true);
        return GradMode.ShouldRecord(x) ? new ScaleBackward("add", x, 1).Attach(result) : result;
    }

    public Tensor Sub(double value)
    {
        var (x, result) = ScalarBinary<SubtractOperator<float>, SubtractOperator<double>, SubtractOperator<int>, SubtractOperator<long>>(value, false, "sub", true);
        return GradMode.ShouldRecord(x) ? new ScaleBackward("sub", x, 1).Attach(result) : result;
    }

    /// <summary><paramref name="value"/> − this.</summary>
    public Tensor RSub(double value)
    {
        var (x, result) = ScalarBinary<SubtractOperator<float>, SubtractOperator<double>, SubtractOperator<int>, SubtractOperator<long>>(value, true, "rsub", true);
        return GradMode.ShouldRecord(x) ? new ScaleBackward("rsub", x, -1).Attach(result) : result;
    }

    public Tensor Mul(double value)
    {
        var (x, result) = ScalarBinary<MultiplyOperator<float>, MultiplyOperator<double>, MultiplyOperator<int>, MultiplyOperator<long>>(value, false, "mul", true);
        return GradMode.ShouldRecord(x) ? new ScaleBackward("mul", x, value).Attach(result) : result;
    }

    public Tensor Div(double value)
    {
        var (x, result) = ScalarBinary<DivideOperator<float>, DivideOperator<double>, NoIntegerOperator<int>, NoIntegerOperator<long>>(value, false, "div", false);
        return GradMode.ShouldRecord(x) ? new ScaleBackward("div", x, 1 / value).Attach(result) : result;
    }

    /// <summary><paramref name="value"/> / this.</summary>
    public Tensor RDiv(double value)
    {
        var (x, result) = ScalarBinary<DivideOperator<float>, DivideOperator<double>, NoIntegerOperator<int>, NoIntegerOperator<long>>(value, true, "rdiv", false);
        return GradMode.ShouldRecord(x) ? new RDivBackward(x, result).Attach(result) : result;
    }

    /// <summary>Element-wise xᵖ for a scalar exponent. An integer tensor with an integral exponent stays integer (p ≥ 0, as PyTorch requires).</summary>
    public Tensor Pow(double exponent)
    {
        if (!DType.IsFloatingPoint() && exponent < 0 && exponent == Math.Floor(exponent))
            throw new ArgumentException($"pow: integers to negative integer powers are not allowed (dtype {DType.Name()}, exponent {exponent})");
        var (x, result) = ScalarBinary<PowOperator<float>, PowOperator<double>, IntegerPowOperator<int>, IntegerPowOperator<long>>(exponent, false, "pow", true);
        return GradMode.ShouldRecord(x) ? new PowScalarBackward(x, exponent).Attach(result) : result;
    }

    // ------------------------------------------------------------------ backward

    private sealed class AddBackward(string op, Tensor a, Tensor b, bool negateB) : BackwardNode(op, a, b)
    {
        private readonly Shape _aShape = a.Shape, _bShape = b.Shape;

        protected internal override Tensor?[] Apply(Tensor g) =>
        [
            NeedsGrad(0) ? g.SumToSize(_aShape) : null,
            NeedsGrad(1) ? (negateB ? g.Neg() : g).SumToSize(_bShape) : null,
        ];
    }

    private sealed class MulBackward : BackwardNode
    {
        private readonly SavedTensor? _a, _b;
        private readonly Shape _aShape, _bShape;

        public MulBackward(Tensor a, Tensor b) : base("mul", a, b)
        {
            (_aShape, _bShape) = (a.Shape, b.Shape);
            // Save each operand only if the other one needs its gradient (x·x saves x twice, which is fine).
            if (NeedsGrad(0)) _b = Save(b);
            if (NeedsGrad(1)) _a = Save(a);
        }

        protected internal override Tensor?[] Apply(Tensor g) =>
        [
            _b is null ? null : g.Mul(_b.Value).SumToSize(_aShape),
            _a is null ? null : g.Mul(_a.Value).SumToSize(_bShape),
        ];
    }

    private sealed class DivBackward : BackwardNode
    {
        private readonly SavedTensor? _a;
        private readonly SavedTensor _b;
        private readonly Shape _aShape, _bShape;

        public DivBackward(Tensor a, Tensor b) : base("div", a, b)
        {
            (_aShape, _bShape) = (a.Shape, b.Shape);
            _b = Save(b);
            if (NeedsGrad(1)) _a = Save(a);
        }

        protected internal override Tensor?[] Apply(Tensor g)
        {
            var b = _b.Value;
            var gOverB = g.Div(b);
            return
            [
                NeedsGrad(0) ? gOverB.SumToSize(_aShape) : null,
                _a is null ? null : gOverB.Mul(_a.Value).Div(b).Neg().SumToSize(_bShape),
            ];
        }
    }

    private sealed class PowBackward : BackwardNode
    {
        private readonly SavedTensor _a, _b;
        private readonly SavedTensor? _result;
        private readonly Shape _aShape, _bShape;

        public PowBackward(Tensor a, Tensor b, Tensor result) : base("pow", a, b)
        {
            (_aShape, _bShape) = (a.Shape, b.Shape);
            _a = Save(a);
            _b = Save(b);
            if (NeedsGrad(1)) _result = Save(result);
        }

        protected internal override Tensor?[] Apply(Tensor g)
        {
            var a = _a.Value;
            var b = _b.Value;
            Tensor? ga = null, gb = null;
            if (NeedsGrad(0))
            {
                // b·a^(b−1), written so that b = 0 gives exactly 0 even where a^(−1) is infinite.
                var local = Where(b.Eq(0), ZerosLike(b), b.Mul(a.Pow(b.Sub(1))));
                ga = g.Mul(local).SumToSize(_aShape);
            }
            if (_result is not null)
            {
                var local = _result.Value.Mul(a.Log());
                local = Where(a.Eq(0).LogicalAnd(b.Ge(0)), ZerosLike(local), local);
                gb = g.Mul(local).SumToSize(_bShape);
            }
            return [ga, gb];
        }
    }

    private sealed class PowScalarBackward : BackwardNode
    {
        private readonly SavedTensor _x;
        private readonly double _p;

        public PowScalarBackward(Tensor x, double exponent) : base("pow", x)
        {
            _x = Save(x);
            _p = exponent;
        }

        protected internal override Tensor?[] Apply(Tensor g)
        {
            var x = _x.Value;
            if (_p == 0) return [ZerosLike(x)];
            return [g.Mul(x.Pow(_p - 1).Mul(_p))];
        }
    }

    /// <summary>d(c/x) = −c/x² = −y/x.</summary>
    private sealed class RDivBackward : BackwardNode
    {
        private readonly SavedTensor _x, _y;

        public RDivBackward(Tensor x, Tensor y) : base("rdiv", x)
        {
            _x = Save(x);
            _y = Save(y);
        }

        protected internal override Tensor?[] Apply(Tensor g) => [g.Mul(_y.Value).Div(_x.Value).Neg()];
    }

    private sealed class MinMaxBackward : BackwardNode
    {
        private readonly SavedTensor _a, _b;
        private readonly Shape _aShape, _bShape;

        public MinMaxBackward(string op, Tensor a, Tensor b) : base(op, a, b)
        {
            (_aShape, _bShape) = (a.Shape, b.Shape);
            _a = Save(a);
            _b = Save(b);
        }

        protected internal override Tensor?[] Apply(Tensor g)
        {
            var a = _a.Value;
            var b = _b.Value;
            // Each operand's weight is 0 where it loses, ½ at a tie, 1 otherwise. Where either is NaN neither loses
            // (every comparison is false), so both get the whole gradient, as in PyTorch.
            bool min = OpName == "minimum";
            var tie = a.Eq(b).To(g.DType).Mul(0.5);
            return
            [
                NeedsGrad(0) ? g.Mul((min ? a.Gt(b) : a.Lt(b)).To(g.DType).Add(tie).RSub(1)).SumToSize(_aShape) : null,
                NeedsGrad(1) ? g.Mul((min ? a.Lt(b) : a.Gt(b)).To(g.DType).Add(tie).RSub(1)).SumToSize(_bShape) : null,
            ];
        }
    }
}
