using System.Text.Json;
using Xunit.Sdk;

namespace Loom.Tests.Elementwise;

/// <summary>
/// Type promotion against PyTorch (issue 8 item 3). tests/golden/make_promotion_golden.py runs every binary op on every
/// pair of dtypes and operand kinds (a tensor with dimensions, a zero-dim tensor, an integral or a fractional scalar) and
/// records torch.result_type, the dtype of the actual result and its values, or that PyTorch refuses the combination.
/// Loom must give the same dtype and values, and refuse what PyTorch refuses.
/// </summary>
public class TypePromotionTests
{
    private static readonly JsonElement Golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "type_promotion.json"))).RootElement;

    public static TheoryData<string> BinaryOps =>
        [.. Golden.GetProperty("binary").EnumerateArray().Select(c => c.GetProperty("op").GetString()!).Distinct()];

    [Theory]
    [MemberData(nameof(BinaryOps))]
    public void Binary_ops_give_pytorchs_dtype_and_values(string op)
    {
        var failures = new List<string>();
        int count = 0;
        foreach (var c in Golden.GetProperty("binary").EnumerateArray().Where(c => c.GetProperty("op").GetString() == op))
        {
            count++;
            var a = c.GetProperty("a");
            var b = c.GetProperty("b");
            string what = $"{op}({Describe(a)}, {Describe(b)})";
            var expected = Expected(c.GetProperty("result").GetString()!);
            var resultType = Expected(c.GetProperty("result_type").GetString()!)!.Value;
            var x = Operand(a, "a");
            string? failure = null;
            try
            {
                // torch.result_type first: it does not depend on whether the op accepts the dtypes.
                var rt = b.GetProperty("kind").GetString() is "int" or "float"
                    ? TypePromotion.ResultType((Tensor)x!, b.GetProperty("value").GetDouble())
                    : TypePromotion.ResultType((Tensor)x!, (Tensor)Operand(b, "b")!);
                if (rt != resultType) failure = $"result_type {rt.Name()}, PyTorch {resultType.Name()}";
            }
            catch (Exception e)
            {
                failure = $"result_type threw {e.GetType().Name}: {e.Message}";
            }
            Tensor? actual = null;
            Exception? error = null;
            try
            {
                actual = Run(op, (Tensor)x!, Operand(b, "b"));
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or DivideByZeroException)
            {
                error = e;
            }
            if (expected is null)
            {
                if (error is null) failure ??= $"gave {actual!.DType.Name()}, PyTorch refuses ({c.GetProperty("error").GetString()})";
            }
            else if (error is not null) failure ??= $"threw {error.GetType().Name}: {error.Message}";
            else if (actual!.DType != expected) failure ??= $"gave {actual.DType.Name()}, PyTorch {expected.Value.Name()}";
            else
            {
                var want = c.GetProperty("values").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!) : v.GetDouble()).ToArray();
                var got = actual.ToArray<double>();
                var shape = c.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
                if (!actual.Shape.ToArray().SequenceEqual(shape)) failure ??= $"shape {actual.Shape}, PyTorch [{string.Join(", ", shape)}]";
                else if (!got.Zip(want).All(p => p.First.Equals(p.Second) || Math.Abs(p.First - p.Second) <= 1e-6 * Math.Abs(p.Second)))
                    failure ??= $"values [{string.Join(", ", got)}], PyTorch [{string.Join(", ", want)}]";
            }
            if (failure is not null) failures.Add($"{what}: {failure}");
        }
        Assert.True(count > 0, $"no golden cases for {op}");
        if (failures.Count > 0)
            throw new XunitException($"{failures.Count} of {count} cases differ from PyTorch:\n" + string.Join("\n", failures.Take(25)));
    }

    [Fact]
    public void Integer_relu_clamp_matmul_and_true_division_give_pytorchs_dtype_and_values()
    {
        var failures = new List<string>();
        foreach (var c in Golden.GetProperty("unary").EnumerateArray())
        {
            string op = c.GetProperty("op").GetString()!;
            var dtype = Expected(c.GetProperty("dtype").GetString()!)!.Value;
            var x = Tensor.FromArray<double>(dtype == DType.UInt8 ? [3, 0, 5, 1] : [3, -2, 5, 1]).To(dtype);
            var m = x.Reshape(2, 2);
            var y = op switch
            {
                "relu" => x.Relu(),
                "clamp_int" => x.Clamp(1, 4),
                "clamp_float" => x.Clamp(1.5, 4.5),
                "matmul" => m.Matmul(m),
                "matvec" => m.Matmul(m.Select(0, 0)),
                "true_divide_scalar" => x.Div(2),
                _ => throw new XunitException($"unknown case {op}"),
            };
            var expected = Expected(c.GetProperty("result").GetString()!);
            var want = c.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            if (y.DType != expected || !y.ToArray<double>().SequenceEqual(want))
                failures.Add($"{op} on {dtype.Name()}: {y.DType.Name()} [{string.Join(", ", y.ToArray<double>())}], PyTorch {expected?.Name()} [{string.Join(", ", want)}]");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Mixed_float_cat_passes_gradients_to_each_input_in_its_own_dtype()
    {
        var a = Tensor.FromArray([1f, 2f]).RequiresGrad_();
        var b = Tensor.FromArray([3.0]).RequiresGrad_();
        var y = Tensor.Cat([a, b]);
        Assert.Equal(DType.Float64, y.DType);
        y.Mul(Tensor.FromArray([1.0, 2.0, 3.0])).Sum().Backward();
        Assert.Equal(DType.Float32, a.Grad!.DType);
        Assert.Equal([1f, 2f], a.Grad.ToArray<float>());
        Assert.Equal([3.0], b.Grad!.ToArray<double>());
    }

    [Fact]
    public void In_place_ops_refuse_a_result_of_a_higher_category_and_narrow_within_one()
    {
        var ints = Tensor.FromArray([1L, 2L]);
        var e = Assert.Throws<ArgumentException>(() => ints.AddInPlace(Tensor.FromArray([0.5, 0.5])));
        Assert.Contains("cannot be stored in the int64 destination", e.Message);
        var floats = Tensor.FromArray([1f, 2f]);
        floats.AddInPlace(Tensor.FromArray([0.25, 0.5]));
        Assert.Equal([1.25f, 2.5f], floats.ToArray<float>());
    }

    private static string Describe(JsonElement operand) => operand.GetProperty("kind").GetString() switch
    {
        "int" or "float" => $"scalar {operand.GetProperty("value").GetDouble()}",
        var kind => $"{kind} {operand.GetProperty("dtype").GetString()}",
    };

    /// <summary>The golden dtype name as a Loom dtype: null for "error"; int16 (uint8 with int8) is int32 in Loom, which has no int16.</summary>
    private static DType? Expected(string name) => name switch
    {
        "error" => null,
        "int16" => DType.Int32,
        _ => Enum.GetValues<DType>().Single(d => d.Name() == name),
    };

    /// <summary>The operand as the Python script built it: a [3] tensor or a zero-dim tensor of the side's values, or a scalar (double).</summary>
    private static object? Operand(JsonElement operand, string side)
    {
        string kind = operand.GetProperty("kind").GetString()!;
        if (kind is "int" or "float") return operand.GetProperty("value").GetDouble();
        var dtype = Expected(operand.GetProperty("dtype").GetString()!)!.Value;
        double[] values = dtype == DType.Bool ? (side == "a" ? [1, 0, 1] : [1, 1, 1])
            : dtype.IsFloatingPoint() ? (side == "a" ? [3.5, 2.25, 5.0] : [1.5, 2.0, 0.5])
            : (side == "a" ? [3, 2, 5] : [2, 3, 1]);
        var t = Tensor.FromArray(values).To(dtype);
        return kind == "dim" ? t : t.Select(0, 0);
    }

    private static Tensor Run(string op, Tensor a, object? b)
    {
        if (b is double s)
        {
            return op switch
            {
                "add" => a.Add(s),
                "sub" => a.Sub(s),
                "mul" => a.Mul(s),
                "div" => a.Div(s),
                "pow" => a.Pow(s),
                "floor_divide" => a.FloorDivide(s),
                "remainder" => a.Remainder(s),
                "eq" => a.Eq(s),
                "lt" => a.Lt(s),
                _ => throw new XunitException($"no scalar form of {op}"),
            };
        }
        var t = (Tensor)b!;
        return op switch
        {
            "add" => a.Add(t),
            "sub" => a.Sub(t),
            "mul" => a.Mul(t),
            "div" => a.Div(t),
            "pow" => a.Pow(t),
            "floor_divide" => a.FloorDivide(t),
            "remainder" => a.Remainder(t),
            "eq" => a.Eq(t),
            "lt" => a.Lt(t),
            "maximum" => a.Maximum(t),
            "minimum" => a.Minimum(t),
            "where" => Tensor.Where(Tensor.FromArray([1.0, 0, 1]).To(DType.Bool), a, t),
            "cat" => Tensor.Cat([a, t]),
            "stack" => Tensor.Stack([a, t]),
            _ => throw new XunitException($"unknown op {op}"),
        };
    }
}
