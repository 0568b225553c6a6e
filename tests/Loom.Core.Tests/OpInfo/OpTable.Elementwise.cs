namespace Loom.Tests.OpInfo;

internal static partial class OpTable
{
    private static IEnumerable<OpInfo> Elementwise() =>
    [
        Op("neg", (x, a) => x[0].Neg(), "Neg"),
        Op("abs", (x, a) => x[0].Abs(), "Abs"),
        Op("sqrt", (x, a) => x[0].Sqrt(), "Sqrt"),
        Op("rsqrt", (x, a) => x[0].Rsqrt(), "Rsqrt"),
        Op("exp", (x, a) => x[0].Exp(), "Exp"), // float32 is Loom's exp (ExpKernels), within 2 ulp over the sweep
        Op("log", (x, a) => x[0].Log(), "Log"),
        Op("square", (x, a) => x[0].Square(), "Square"),
        Op("reciprocal", (x, a) => x[0].Reciprocal(), "Reciprocal"),
        Op("sin", (x, a) => x[0].Sin(), "Sin"),
        Op("cos", (x, a) => x[0].Cos(), "Cos"),
        Op("erf", (x, a) => x[0].Erf(), "Erf"),
        Op("clamp", (x, a) => x[0].Clamp(a.DoubleOrNull("min"), a.DoubleOrNull("max")), "Clamp"),
        Op("log1p", (x, a) => x[0].Log1p(), "Log1p") with { SweepUlps = (1, 2) },
        Op("expm1", (x, a) => x[0].Expm1(), "Expm1") with { SweepUlps = (1, 2) },
        Op("floor", (x, a) => x[0].Floor(), "Floor") with { NotGradChecked = OnTheSteps },
        Op("ceil", (x, a) => x[0].Ceil(), "Ceil") with { NotGradChecked = OnTheSteps },
        Op("trunc", (x, a) => x[0].Trunc(), "Trunc") with { NotGradChecked = OnTheSteps },
        Op("round", (x, a) => x[0].Round(), "Round") with { NotGradChecked = OnTheSteps },
        Op("round_decimals", (x, a) => x[0].Round(a.Int("decimals")), "Round"),
        Op("sign", (x, a) => x[0].Sign(), "Sign") with { NotGradChecked = OnTheSteps },
        Op("floor_divide", (x, a) => x[0].FloorDivide(x[1]), "FloorDivide"),
        Op("floor_divide_scalar", (x, a) => x[0].FloorDivide(a.Double("value")), "FloorDivide"),
        Op("remainder", (x, a) => x[0].Remainder(x[1]), "Remainder") with { NotGradChecked = [("signs", "integral quotients sit on the jumps")] },
        Op("remainder_scalar", (x, a) => x[0].Remainder(a.Double("value")), "Remainder"),
    ];

    /// <summary>The "halves" sample of the rounding ops sits on their jumps, where finite differences see a step.</summary>
    private static (string, string)[] OnTheSteps => [("halves", "every value is on a jump")];

    private static IEnumerable<OpInfo> Activations() =>
    [
        Op("relu", (x, a) => x[0].Relu(), "Relu"),
        Op("leaky_relu", (x, a) => x[0].LeakyRelu(a.Double("slope")), "LeakyRelu"),
        Op("gelu", (x, a) => x[0].Gelu(), "Gelu") with
        {
            Known = [Issue(1, Check.Sweep, "sweep", null, "x·Φ(x) for x ≲ −3: float32 evaluates erfc of the rounded x/√2, which amplifies its rounding by 2z² (119 ulp at −13); float64 corrects that at first order and is within 11 ulp (the erfc continued fraction)")],
        },
        Op("gelu_tanh", (x, a) => x[0].Gelu(approximate: true), "Gelu") with
        {
            Known = [Issue(1, Check.Sweep, "sweep", null, "x·σ(2u) for x ≲ −5: exp of the rounded 2u ≈ −90 carries its rounding, up to 92 ulp (float64), 62 ulp (float32) on results below 1e-30")],
        },
        Op("silu", (x, a) => x[0].Silu(), "Silu"),
        Op("sigmoid", (x, a) => x[0].Sigmoid(), "Sigmoid") with
        {
            Known = [Issue(1, Check.Sweep, "sweep", DType.Float32, "2.06 ulp at −3.5")],
        },
        Op("tanh", (x, a) => x[0].Tanh(), "Tanh"),
        Op("softplus", (x, a) => x[0].Softplus(a.Double("beta", 1), a.Double("threshold", 20)), "Softplus"),
        Op("softmax", (x, a) => x[0].Softmax(a.Int("axis")), "Softmax"),
        Op("log_softmax", (x, a) => x[0].LogSoftmax(a.Int("axis")), "LogSoftmax"),
        Op("elu", (x, a) => x[0].Elu(a.Double("alpha", 1)), "Elu"),
        Op("selu", (x, a) => x[0].Selu(), "Selu"),
        // PyTorch's float64 celu gradient uses 1/α rounded to float32 (its derivative formula calls alpha.toFloat()), ~3e-8 off;
        // Loom's is exact (GradCheck), so float64 is compared at float32's tolerance.
        Op("celu", (x, a) => x[0].Celu(a.Double("alpha", 1)), "Celu") with { F64 = new(1e-7, 1e-7) },
        Op("hardtanh", (x, a) => x[0].Hardtanh(a.Double("min"), a.Double("max")), "Hardtanh"),
        Op("relu6", (x, a) => x[0].Relu6(), "Relu6"),
        // PyTorch's float64 hardsigmoid gradient multiplies by 1/6 rounded to float32 (~3e-8 off); Loom's is exact (GradCheck).
        Op("hardsigmoid", (x, a) => x[0].Hardsigmoid(), "Hardsigmoid") with { F64 = new(1e-7, 1e-7) },
        Op("hardswish", (x, a) => x[0].Hardswish(), "Hardswish"),
        Op("logsigmoid", (x, a) => x[0].LogSigmoid(), "LogSigmoid"),
        Op("mish", (x, a) => x[0].Mish(), "Mish"),
    ];

    private static IEnumerable<OpInfo> Arithmetic() =>
    [
        Op("add", (x, a) => x[0].Add(x[1]), "Add"),
        Op("sub", (x, a) => x[0].Sub(x[1]), "Sub"),
        Op("mul", (x, a) => x[0].Mul(x[1]), "Mul"),
        Op("div", (x, a) => x[0].Div(x[1]), "Div"),
        Op("pow", (x, a) => x[0].Pow(x[1]), "Pow"),
        Op("minimum", (x, a) => x[0].Minimum(x[1]), "Minimum"),
        Op("maximum", (x, a) => x[0].Maximum(x[1]), "Maximum"),
        Op("add_int", (x, a) => x[0].Add(x[1]), "Add"),
        Op("mul_int", (x, a) => x[0].Mul(x[1]), "Mul"),
        Op("div_int", (x, a) => x[0].Div(x[1]), "Div"),
        Op("add_mixed", (x, a) => x[0].Add(x[1]), "Add") with { GradCheckElsewhere = "the add row; this one checks the mixed dtypes" },
        Op("add_scalar", (x, a) => x[0].Add(a.Double("value")), "Add"),
        Op("sub_scalar", (x, a) => x[0].Sub(a.Double("value")), "Sub"),
        Op("rsub_scalar", (x, a) => x[0].RSub(a.Double("value")), "RSub"),
        Op("mul_scalar", (x, a) => x[0].Mul(a.Double("value")), "Mul"),
        Op("div_scalar", (x, a) => x[0].Div(a.Double("value")), "Div"),
        Op("rdiv_scalar", (x, a) => x[0].RDiv(a.Double("value")), "RDiv"),
        Op("pow_scalar", (x, a) => x[0].Pow(a.Double("value")), "Pow"),
        Op("scalar_int", (x, a) => x[0].Mul(a.Double("value")).Add(a.Double("value")), "Mul", "Add"),
        Op("add_", (x, a) => a.Has("value") ? x[0].Clone().AddInPlace(a.Double("value")) : x[0].Clone().AddInPlace(x[1], a.Double("alpha")), "AddInPlace"),
        Op("sub_", (x, a) => a.Has("value") ? x[0].Clone().SubInPlace(a.Double("value")) : x[0].Clone().SubInPlace(x[1], a.Double("alpha")), "SubInPlace"),
        Op("mul_", (x, a) => a.Has("value") ? x[0].Clone().MulInPlace(a.Double("value")) : x[0].Clone().MulInPlace(x[1]), "MulInPlace"),
        Op("div_", (x, a) => a.Has("value") ? x[0].Clone().DivInPlace(a.Double("value")) : x[0].Clone().DivInPlace(x[1]), "DivInPlace"),
        Op("fill_", (x, a) => x[0].Clone().FillInPlace(a.Double("value")), "FillInPlace"),
        Op("zero_", (x, a) => x[0].Clone().ZeroInPlace(), "ZeroInPlace"),
        Op("clamp_", (x, a) => x[0].Clone().ClampInPlace(a.DoubleOrNull("min"), a.DoubleOrNull("max")), "ClampInPlace"),
    ];

    private static IEnumerable<OpInfo> Comparisons() =>
    [
        Op("eq", (x, a) => a.Has("value") ? x[0].Eq(a.Double("value")) : x[0].Eq(x[1]), "Eq"),
        Op("ne", (x, a) => a.Has("value") ? x[0].Ne(a.Double("value")) : x[0].Ne(x[1]), "Ne"),
        Op("lt", (x, a) => a.Has("value") ? x[0].Lt(a.Double("value")) : x[0].Lt(x[1]), "Lt"),
        Op("le", (x, a) => a.Has("value") ? x[0].Le(a.Double("value")) : x[0].Le(x[1]), "Le"),
        Op("gt", (x, a) => a.Has("value") ? x[0].Gt(a.Double("value")) : x[0].Gt(x[1]), "Gt"),
        Op("ge", (x, a) => a.Has("value") ? x[0].Ge(a.Double("value")) : x[0].Ge(x[1]), "Ge"),
        Op("logical_and", (x, a) => x[0].LogicalAnd(x[1]), "LogicalAnd"),
        Op("logical_or", (x, a) => x[0].LogicalOr(x[1]), "LogicalOr"),
        Op("logical_xor", (x, a) => x[0].LogicalXor(x[1]), "LogicalXor"),
        Op("logical_not", (x, a) => x[0].LogicalNot(), "LogicalNot"),
        Op("isnan", (x, a) => x[0].IsNan(), "IsNan"),
        Op("isfinite", (x, a) => x[0].IsFinite(), "IsFinite"),
        Op("where", (x, a) => Tensor.Where(x[0], x[1], x[2]), "Where"),
    ];
}
