namespace Loom.Tests.OpInfo;

/// <summary>Runs one op under test on a sample's inputs (already in the dtype and layout of the run).</summary>
internal delegate Tensor[] OpRun(Tensor[] inputs, SampleArgs args);

/// <summary>How far a result may be from the reference: |actual − expected| ≤ Atol + Rtol·|expected|.</summary>
internal readonly record struct Tolerance(double Atol, double Rtol);

/// <summary>Which check of a row a known failure concerns.</summary>
internal enum Check { Golden, GradCheck, Sweep }

/// <summary>
/// A check that fails today for a reason tracked elsewhere (an item of issue 8 that another change owns). It is
/// reported as skipped with that reason, never as passed; fixing the item means deleting the entry.
/// </summary>
/// <param name="Sample">The sample's name, or "*" for every sample.</param>
/// <param name="DType">The run's dtype (null: every run, including exact ones).</param>
internal sealed record KnownIssue(int Item, Check Check, string Sample, DType? DType, string Why);

/// <summary>
/// One row of the OpInfo table: an op, how Loom runs it, and how closely it must match PyTorch. The samples, their
/// arguments and PyTorch's values live in tests/golden/ops/&lt;Name&gt;.safetensors, written by
/// tests/golden/make_op_golden.py from the row of the same name there.
/// </summary>
internal sealed record OpInfo(string Name, OpRun Run)
{
    /// <summary>The public Loom methods this row exercises (for the coverage check), by name.</summary>
    public string[] Covers { get; init; } = [];

    /// <summary>Float64 runs against PyTorch's float64 values.</summary>
    public Tolerance F64 { get; init; } = new(1e-12, 1e-11);

    /// <summary>Float32 runs against PyTorch's float64 values: float32 rounding of the inputs' exact results.</summary>
    public Tolerance F32 { get; init; } = new(2e-6, 1e-5);

    /// <summary>Gradients in float32 (accumulate more rounding than forward values).</summary>
    public Tolerance? F32Grad { get; init; }

    /// <summary>Why no sample of this row is grad-checked, when that is so (another row or test checks the same gradient).</summary>
    public string? GradCheckElsewhere { get; init; }

    /// <summary>The most ulps a precision sweep allows in float32 and in float64.</summary>
    public (double F32, double F64) SweepUlps { get; init; } = (2, 2);

    public KnownIssue[] Known { get; init; } = [];

    /// <summary>Samples where finite differences do not measure the defined gradient, with the reason (not failures).</summary>
    public (string Sample, string Why)[] NotGradChecked { get; init; } = [];

    public KnownIssue? KnownFor(Check check, string sample, DType? dtype) =>
        Known.FirstOrDefault(k => k.Check == check && (k.Sample == "*" || k.Sample == sample) && (k.DType is null || k.DType == dtype));

    public override string ToString() => Name;
}
