using Xunit.Abstractions;
using Xunit.Sdk;

namespace Loom.Tests.OpInfo;

/// <summary>
/// The OpInfo suite: every row of <see cref="OpTable"/> against PyTorch's values for each of its samples (forward
/// values, and the gradients of Σ output·probe), in float64 at tight tolerance and in float32 against the float64
/// values, each on contiguous inputs and on strided views of the same values; float64 GradCheck of every
/// differentiable sample small enough for finite differences; and, for the transcendental functions, precision sweeps
/// in ulps against the correctly rounded exact values.
/// </summary>
/// <remarks>
/// Case ids are "op/sample/dtype" (golden), "op/sample" (GradCheck) and "op/dtype" (sweep). A case that fails for a
/// reason another change owns is listed in its row's <see cref="OpInfo.Known"/> and reported as skipped with that item
/// of issue 8 (<see cref="KnownIssueDataAttribute"/>).
/// </remarks>
public class OpInfoTests(ITestOutputHelper output)
{
    // GradCheck costs one backward per output element and two forwards per input element: keep it to small samples.
    private const int GradCheckMaxElements = 400;

    public static TheoryData<string> Golden => Cases(GoldenCases(), null);
    public static TheoryData<string> GoldenItem1 => Cases(GoldenCases(), 1);
    public static TheoryData<string> GoldenItem2 => Cases(GoldenCases(), 2);
    public static TheoryData<string> GoldenItem3 => Cases(GoldenCases(), 3);
    public static TheoryData<string> GoldenItem5 => Cases(GoldenCases(), 5);
    public static TheoryData<string> Gradients => Cases(GradCheckCases(), null);
    public static TheoryData<string> GradientsItem5 => Cases(GradCheckCases(), 5);
    public static TheoryData<string> Sweeps => Cases(SweepCases(), null);
    public static TheoryData<string> SweepsItem1 => Cases(SweepCases(), 1);

    [Theory]
    [MemberData(nameof(Golden))]
    [KnownIssueData(nameof(GoldenItem1), 1)]
    [KnownIssueData(nameof(GoldenItem2), 2)]
    [KnownIssueData(nameof(GoldenItem3), 3)]
    [KnownIssueData(nameof(GoldenItem5), 5)]
    public void Matches_torch(string id)
    {
        var (row, sample, dtype) = ParseGolden(id);
        foreach (bool strided in Layouts(sample))
        {
            try
            {
                CheckGolden(row, sample, dtype, strided);
            }
            catch (Exception e)
            {
                string where = e is XunitException ? "" : $" ({e.GetType().Name} at {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()})";
                throw new XunitException($"{id}{(strided ? ", strided inputs" : "")}: {e.Message}{where}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Gradients))]
    [KnownIssueData(nameof(GradientsItem5), 5)]
    public void Gradients_match_finite_differences(string id)
    {
        var parts = id.Split('/');
        var row = OpTable.Row(parts[0]);
        var sample = OpGolden.Load(row.Name).Sample(parts[1]);
        var inputs = sample.Inputs.Select((x, i) =>
        {
            var t = (x.DType.IsFloatingPoint() && !sample.Exact ? x.To(DType.Float64) : x).Clone();
            return sample.Grads[i] is null ? t : t.RequiresGrad_();
        }).ToArray();
        TensorAssert.GradientsMatch(xs =>
        {
            var all = row.Run(xs, sample.Args);
            var outs = sample.Differentiable.Select(j => all[j].Reshape(-1)).ToArray();
            return outs.Length == 1 ? outs[0] : Tensor.Cat(outs);
        }, inputs);
    }

    [Theory]
    [MemberData(nameof(Sweeps))]
    [KnownIssueData(nameof(SweepsItem1), 1)]
    public void Precision_sweep(string id)
    {
        var parts = id.Split('/');
        var row = OpTable.Row(parts[0]);
        bool single = parts[1] == "float32";
        var sample = OpGolden.Load(row.Name).Sample(single ? "sweep32" : "sweep64");
        var x = sample.Inputs[0].Clone();
        Assert.Equal(single ? DType.Float32 : DType.Float64, x.DType);
        var y = row.Run([x], sample.Args)[0].ToArray<double>();
        var exact = sample.Outputs[0].ToArray<double>();
        var input = x.ToArray<double>();
        double limit = single ? row.SweepUlps.F32 : row.SweepUlps.F64;
        var errors = Enumerable.Range(0, y.Length).Select(i => (At: i, Ulps: Ulp.Error(y[i], exact[i], single))).ToArray();
        var worst = errors.MaxBy(e => e.Ulps);
        // The worst error of every function is part of the test log, so a change of precision is visible before it fails.
        output.WriteLine($"{id}: max {worst.Ulps:G3} ulp at x = {input[worst.At]:R} (limit {limit})");
        var bad = errors.Where(e => !(e.Ulps <= limit)).OrderByDescending(e => e.Ulps).ToArray();
        if (bad.Length > 0)
            throw new XunitException(
                $"{id}: {bad.Length} of {y.Length} points are more than {limit} ulp from the exact value; worst: " +
                string.Join("; ", bad.Take(6).Select(e => $"x = {input[e.At]:R}: {y[e.At]:R} vs {exact[e.At]:R} ({e.Ulps:G3} ulp)")));
    }

    [Fact]
    public void Every_row_has_a_golden_file_and_every_golden_file_a_row()
    {
        var rows = OpTable.All.Select(r => r.Name).ToArray();
        Assert.Equal(rows.Length, rows.Distinct().Count());
        var files = Directory.GetFiles(OpGolden.Folder, "*.safetensors").Select(Path.GetFileNameWithoutExtension).ToHashSet();
        var noGolden = rows.Where(r => !files.Contains(r)).ToArray();
        var noRow = files.Where(f => !rows.Contains(f!)).ToArray();
        Assert.True(noGolden.Length == 0, $"rows without a golden file (run tests/golden/make_op_golden.py): {string.Join(", ", noGolden)}");
        Assert.True(noRow.Length == 0, $"golden files without a row: {string.Join(", ", noRow)}");
    }

    [Fact]
    public void Every_differentiable_row_is_grad_checked()
    {
        var checkedRows = GradCheckCases().Select(c => c.Item1.Split('/')[0]).ToHashSet();
        var missing = OpTable.All.Where(r => r.GradCheckElsewhere is null && OpGolden.Exists(r.Name) && OpGolden.Load(r.Name).Samples.Any(s => s.HasGrads) &&
                !checkedRows.Contains(r.Name))
            .Select(r => r.Name).ToArray();
        Assert.True(missing.Length == 0, $"rows with gradients but no sample GradCheck can take (finite, small, not excluded): {string.Join(", ", missing)}");
    }

    [Fact]
    public void Known_issues_name_existing_samples()
    {
        foreach (var row in OpTable.All)
        {
            var names = OpGolden.Load(row.Name).Samples.Select(s => s.Name).ToHashSet();
            foreach (var k in row.Known)
                Assert.True(k.Sample == "*" || names.Contains(k.Sample) || (k.Check == Check.Sweep && k.Sample == "sweep"),
                    $"{row.Name}: known issue names sample '{k.Sample}', which its golden file does not have");
        }
    }

    private static IEnumerable<bool> Layouts(GoldenSample s) =>
        s.Inputs.Any(x => x.Rank > 0 && x.Numel > 0) ? [false, true] : [false];

    private static void CheckGolden(OpInfo row, GoldenSample s, DType? dtype, bool strided)
    {
        var inputs = s.Inputs.Select((x, i) =>
        {
            var t = (x.DType.IsFloatingPoint() && dtype is DType d ? x.To(d) : x).Clone();
            if (strided) t = TestTensors.NonContiguous(t);
            return s.Grads[i] is null ? t : t.RequiresGrad_();
        }).ToArray();
        var outputs = row.Run(inputs, s.Args);
        Assert.True(outputs.Length == s.Outputs.Length, $"{outputs.Length} outputs, PyTorch has {s.Outputs.Length}");

        Tensor? loss = null;
        for (int j = 0; j < outputs.Length; j++)
        {
            var expected = s.Outputs[j];
            var actual = outputs[j];
            var dt = expected.DType == DType.Float64 && dtype is DType run ? run : expected.DType;
            if (actual.DType != dt || actual.Shape != expected.Shape)
                throw new XunitException($"output {j} is {actual.DType.Name()} {actual.Shape}, PyTorch's is {dt.Name()} {expected.Shape}");
            var tol = Tol(row, dt, grad: false);
            TensorAssert.Close(expected.ToArray<double>(), actual.ToArray<double>(), tol.Atol, tol.Rtol, $"in output {j} ");
            if (s.Probes[j] is { } probe && actual.RequiresGrad)
            {
                var term = actual.Mul(probe.To(actual.DType)).Sum();
                loss = loss is null ? term : loss.Add(term);
            }
        }
        if (!s.HasGrads) return;
        Assert.True(loss is not null, "no output requires grad, but PyTorch has gradients");
        loss!.Backward();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (s.Grads[i] is not { } expected) continue;
            var grad = inputs[i].Grad ?? throw new XunitException($"input {i} received no gradient");
            Assert.Equal(expected.Shape, grad.Shape);
            var tol = Tol(row, inputs[i].DType, grad: true);
            TensorAssert.Close(expected.ToArray<double>(), grad.ToArray<double>(), tol.Atol, tol.Rtol, $"in the gradient of input {i} ");
        }
    }

    private static Tolerance Tol(OpInfo row, DType dtype, bool grad) => dtype switch
    {
        DType.Float64 => row.F64,
        DType.Float32 => grad ? row.F32Grad ?? row.F32 : row.F32,
        _ => new Tolerance(0, 0),
    };

    private static (OpInfo Row, GoldenSample Sample, DType? DType) ParseGolden(string id)
    {
        var parts = id.Split('/');
        var row = OpTable.Row(parts[0]);
        var sample = OpGolden.Load(row.Name).Sample(parts[1]);
        DType? dtype = parts[2] switch { "float64" => DType.Float64, "float32" => DType.Float32, _ => null };
        return (row, sample, dtype);
    }

    private static TheoryData<string> Cases(IEnumerable<(string Id, KnownIssue? Known)> cases, int? item)
    {
        var data = new TheoryData<string>();
        foreach (var (id, known) in cases)
            if (known?.Item == item) data.Add(id);
        return data;
    }

    private static IEnumerable<(string, KnownIssue?)> GoldenCases()
    {
        foreach (var row in OpTable.All)
        {
            if (!OpGolden.Exists(row.Name)) continue;
            foreach (var s in OpGolden.Load(row.Name).Samples)
            {
                if (s.Sweep) continue;
                DType?[] dtypes = s.Exact ? [null] : [DType.Float64, DType.Float32];
                foreach (var d in dtypes)
                    yield return ($"{row.Name}/{s.Name}/{d?.Name() ?? "exact"}", row.KnownFor(Check.Golden, s.Name, d));
            }
        }
    }

    private static IEnumerable<(string, KnownIssue?)> GradCheckCases()
    {
        foreach (var row in OpTable.All)
        {
            if (row.GradCheckElsewhere is not null || !OpGolden.Exists(row.Name)) continue;
            foreach (var s in OpGolden.Load(row.Name).Samples)
            {
                int size = s.Inputs.Sum(x => x.Numel) + s.Outputs.Sum(x => x.Numel);
                if (s.Sweep || s.Exact || !s.HasGrads || !s.Finite || size > GradCheckMaxElements) continue;
                if (row.NotGradChecked.Any(n => n.Sample == s.Name)) continue;
                yield return ($"{row.Name}/{s.Name}", row.KnownFor(Check.GradCheck, s.Name, DType.Float64));
            }
        }
    }

    private static IEnumerable<(string, KnownIssue?)> SweepCases()
    {
        foreach (var row in OpTable.All)
        {
            if (!OpGolden.Exists(row.Name)) continue;
            var samples = OpGolden.Load(row.Name).Samples;
            if (samples.Any(s => s.Name == "sweep32"))
                yield return ($"{row.Name}/float32", row.KnownFor(Check.Sweep, "sweep", DType.Float32));
            if (samples.Any(s => s.Name == "sweep64"))
                yield return ($"{row.Name}/float64", row.KnownFor(Check.Sweep, "sweep", DType.Float64));
        }
    }
}

/// <summary>Error in units in the last place of the exact value's format.</summary>
internal static class Ulp
{
    private const double MinNormal32 = 1.1754943508222875e-38, MinDenormal32 = 1.401298464324817e-45;
    private const double MinNormal64 = 2.2250738585072014e-308;

    /// <summary>
    /// |actual − exact| in ulps of <paramref name="exact"/> in float32 (<paramref name="single"/>) or float64. NaN must
    /// meet NaN and an exact value that rounds to ±∞ must meet the same infinity; anything else there is infinitely wrong.
    /// </summary>
    public static double Error(double actual, double exact, bool single)
    {
        if (double.IsNaN(exact)) return double.IsNaN(actual) ? 0 : double.PositiveInfinity;
        double rounded = single ? (float)exact : exact;
        if (double.IsInfinity(rounded)) return actual == rounded ? 0 : double.PositiveInfinity;
        if (!double.IsFinite(actual)) return double.PositiveInfinity;
        double a = Math.Abs(exact);
        double ulp = single
            ? a < MinNormal32 ? MinDenormal32 : Math.ScaleB(1.0, Math.ILogB(a) - 23)
            : a < MinNormal64 ? double.Epsilon : Math.ScaleB(1.0, Math.ILogB(a) - 52);
        return Math.Abs(actual - exact) / ulp;
    }
}
