namespace Loom;

// Unary math, element-wise (floats; Neg and Abs also on Int32/Int64).
//   neg:         y = −x           dx = −dy
//   abs:         y = |x|          dx = dy · sign(x)          (sign(0) = 0, as PyTorch)
//   sqrt:        y = √x           dx = dy / (2y)
//   rsqrt:       y = 1/√x         dx = −½ · dy · y³
//   exp:         y = eˣ           dx = dy · y
//   log:         y = ln x         dx = dy / x
//   square:      y = x²           dx = 2 · dy · x
//   reciprocal:  y = 1/x          dx = −dy · y²
//   sin:         y = sin x        dx = dy · cos x
//   cos:         y = cos x        dx = −dy · sin x
//   erf:         y = erf x        dx = dy · 2/√π · exp(−x²)
//   clamp:       y = min(max(x, lo), hi)   dx = dy where lo ≤ x ≤ hi, else 0 (the boundary passes, as PyTorch)
public partial class Tensor
{
    /// <summary>−x (floats, Int32, Int64).</summary>
    public Tensor Neg()
    {
        CheckArithmetic(DType, "neg", integers: true);
        var result = Empty(Shape, DType);
        switch (DType)
        {
            case DType.Float32: BroadcastKernels.Unary<float, NegateOperator<float>>(this, result, new()); break;
            case DType.Float64: BroadcastKernels.Unary<double, NegateOperator<double>>(this, result, new()); break;
            case DType.Int32: BroadcastKernels.Unary<int, NegateOperator<int>>(this, result, new()); break;
            case DType.Int64: BroadcastKernels.Unary<long, NegateOperator<long>>(this, result, new()); break;
        }
        return GradMode.ShouldRecord(this) ? new ScaleBackward("neg", this, -1).Attach(result) : result;
    }

    /// <summary>|x| (floats, Int32, Int64).</summary>
    public Tensor Abs()
    {
        CheckArithmetic(DType, "abs", integers: true);
        var result = Empty(Shape, DType);
        switch (DType)
        {
            case DType.Float32: BroadcastKernels.Unary<float, AbsOperator<float>>(this, result, new()); break;
            case DType.Float64: BroadcastKernels.Unary<double, AbsOperator<double>>(this, result, new()); break;
            case DType.Int32: BroadcastKernels.Unary<int, AbsOperator<int>>(this, result, new()); break;
            case DType.Int64: BroadcastKernels.Unary<long, AbsOperator<long>>(this, result, new()); break;
        }
        return GradMode.ShouldRecord(this) ? new UnaryBackward("abs", this, result).Attach(result) : result;
    }

    public Tensor Sqrt() => RecordUnary("sqrt", MapFloat("sqrt", UnaryFunctions<float>.Sqrt, UnaryFunctions<double>.Sqrt));

    /// <summary>1/√x.</summary>
    public Tensor Rsqrt() => RecordUnary("rsqrt", MapFloat("rsqrt", UnaryFunctions<float>.Rsqrt, UnaryFunctions<double>.Rsqrt));

    public Tensor Exp() => RecordUnary("exp", MapFloat("exp", UnaryFunctions<float>.Exp, UnaryFunctions<double>.Exp));

    /// <summary>Natural logarithm.</summary>
    public Tensor Log() => RecordUnary("log", MapFloat("log", UnaryFunctions<float>.Log, UnaryFunctions<double>.Log));

    public Tensor Square() => RecordUnary("square", MapFloat("square", UnaryFunctions<float>.Square, UnaryFunctions<double>.Square));

    /// <summary>1/x.</summary>
    public Tensor Reciprocal() => RecordUnary("reciprocal", MapFloat("reciprocal", UnaryFunctions<float>.Reciprocal, UnaryFunctions<double>.Reciprocal));

    public Tensor Sin() => RecordUnary("sin", MapFloat("sin", UnaryFunctions<float>.Sin, UnaryFunctions<double>.Sin));

    public Tensor Cos() => RecordUnary("cos", MapFloat("cos", UnaryFunctions<float>.Cos, UnaryFunctions<double>.Cos));

    /// <summary>The error function, 2/√π ∫₀ˣ exp(−t²) dt (float: ≤ ~1.3 ulp; double: ~1e-15 relative).</summary>
    public Tensor Erf() => RecordUnary("erf", MapActivation("erf", new ActivationKernels.ErfFunction()));

    /// <summary>
    /// Limits every element to [min, max]; a null bound is no limit. NaN stays NaN. If min &gt; max every element
    /// becomes max, as in PyTorch. The gradient passes where min ≤ x ≤ max (boundaries included).
    /// </summary>
    public Tensor Clamp(double? min = null, double? max = null)
    {
        var (l, h) = ClampBounds(min, max, "clamp");
        if (!DType.IsFloatingPoint())
        {
            // The bounds are scalars: integral ones keep an integer tensor's dtype, a fractional one makes it float32.
            var dtype = min is double lo ? ScalarResultType(DType, lo) : DType;
            if (max is double hi) dtype = ScalarResultType(dtype, hi);
            if (dtype.IsFloatingPoint()) return To(dtype).Clamp(min, max);
            var clamped = min is double a ? Maximum(Scalar(a, dtype)) : this;
            return max is double b ? clamped.Minimum(Scalar(b, dtype)) : clamped;
        }
        var result = MapFloat("clamp", new ClampOperator<float>((float)l, (float)h), new ClampOperator<double>(l, h));
        return GradMode.ShouldRecord(this) ? new ClampBackward(this, l, h).Attach(result) : result;
    }

    private (double Min, double Max) ClampBounds(double? min, double? max, string op)
    {
        if (min is null && max is null) throw new ArgumentException($"{op}: at least one of min and max must be given (tensor of shape {Shape})");
        if (min is double lo && double.IsNaN(lo) || max is double hi && double.IsNaN(hi))
            throw new ArgumentException($"{op}: bounds must not be NaN (min {min}, max {max})");
        return (min ?? double.NegativeInfinity, max ?? double.PositiveInfinity);
    }

    private Tensor RecordUnary(string op, Tensor result) =>
        GradMode.ShouldRecord(this) ? new UnaryBackward(op, this, result).Attach(result) : result;

    /// <summary>The backward of the unary math ops: saves the input or the output, whichever the rule reads.</summary>
    private sealed class UnaryBackward : BackwardNode
    {
        private readonly SavedTensor _saved;

        public UnaryBackward(string op, Tensor input, Tensor output) : base(op, input)
        {
            bool fromOutput = op is "sqrt" or "rsqrt" or "exp" or "reciprocal";
            _saved = Save(fromOutput ? output : input);
        }

        protected internal override Tensor?[] Apply(Tensor g)
        {
            var s = _saved.Value;
            return
            [
                OpName switch
                {
                    "abs" => g.Mul(s.Gt(0).To(g.DType).Sub(s.Lt(0).To(g.DType))),
                    "sqrt" => g.Div(s.Mul(2)),
                    "rsqrt" => g.Mul(s.Mul(s).Mul(s)).Mul(-0.5),
                    "exp" => g.Mul(s),
                    "log" => g.Div(s),
                    "square" => g.Mul(s).Mul(2),
                    "reciprocal" => g.Mul(s.Mul(s)).Neg(),
                    "sin" => g.Mul(s.Cos()),
                    "cos" => g.Mul(s.Sin()).Neg(),
                    "erf" => FusedBackward(g, s, new ActivationKernels.ErfBackward()),
                    _ => throw new InvalidOperationException($"no backward rule for {OpName}"),
                },
            ];
        }
    }

    private sealed class ClampBackward : BackwardNode
    {
        private readonly SavedTensor _x;
        private readonly double _min, _max;

        public ClampBackward(Tensor x, double min, double max) : base("clamp", x)
        {
            _x = Save(x);
            (_min, _max) = (min, max);
        }

        protected internal override Tensor?[] Apply(Tensor g)
        {
            var x = _x.Value;
            var inside = x.Ge(_min).LogicalAnd(x.Le(_max));
            return [Where(inside, g, Scalar(0, g.DType))];
        }
    }
}
