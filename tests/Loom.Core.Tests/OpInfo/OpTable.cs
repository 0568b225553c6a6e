namespace Loom.Tests.OpInfo;

/// <summary>
/// The OpInfo table: one row per op, each with a golden file of PyTorch's values (tests/golden/make_op_golden.py has
/// a row of the same name that defines the samples). Adding an op is adding a row here and one there. The rows are
/// split by family over the OpTable.*.cs files.
/// </summary>
internal static partial class OpTable
{
    public static readonly IReadOnlyList<OpInfo> All =
        [.. Elementwise(), .. Activations(), .. Arithmetic(), .. Comparisons(), .. Reductions(), .. Shapes(), .. Indexing(), .. Creation(),
         .. Layers(), .. Losses(), .. Spatial()];

    public static OpInfo Row(string name) =>
        All.FirstOrDefault(r => r.Name == name) ?? throw new KeyNotFoundException($"the OpInfo table has no row '{name}'");

    /// <summary>A row whose op has one output.</summary>
    private static OpInfo Op(string name, Func<Tensor[], SampleArgs, Tensor> run, params string[] covers) =>
        new(name, (x, a) => [run(x, a)]) { Covers = covers };

    /// <summary>A row whose op has several outputs.</summary>
    private static OpInfo Multi(string name, Func<Tensor[], SampleArgs, Tensor[]> run, params string[] covers) =>
        new(name, (x, a) => run(x, a)) { Covers = covers };

    private static Tensor? Opt(Tensor[] x, int i) => x.Length > i ? x[i] : null;

    private static KnownIssue Issue(int item, Check check, string sample, DType? dtype, string why) => new(item, check, sample, dtype, why);
}
