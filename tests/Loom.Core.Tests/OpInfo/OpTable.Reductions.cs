namespace Loom.Tests.OpInfo;

internal static partial class OpTable
{
    private static IEnumerable<OpInfo> Reductions() =>
    [
        Op("sum", (x, a) => a.Has("axes") ? x[0].Sum(a.Ints("axes"), a.Bool("keep")) : x[0].Sum(), "Sum"),
        Op("mean", (x, a) => a.Has("axes") ? x[0].Mean(a.Ints("axes"), a.Bool("keep")) : x[0].Mean(), "Mean"),
        Op("var", (x, a) => x[0].Var(a.IntsOrNull("axes"), a.Bool("keep"), a.Int("correction", 1)), "Var") with
        {
            Known = [Issue(5, Check.Golden, "scalar", null, "one element, correction 1 (0/0): gradient NaN; PyTorch's is ±inf")],
            NotGradChecked = [("scalar", "one element with correction 1 is 0/0: NaN, nothing to differentiate")],
        },
        Op("std", (x, a) => x[0].Std(a.IntsOrNull("axes"), a.Bool("keep"), a.Int("correction", 1)), "Std") with
        {
            NotGradChecked = [("scalar", "one element with correction 1 is 0/0: NaN, nothing to differentiate")],
        },
        Op("logsumexp", (x, a) => a.Has("axes") ? x[0].LogSumExp(a.Ints("axes"), a.Bool("keep")) : x[0].LogSumExp(), "LogSumExp"),
        Op("amax", (x, a) => a.Has("axes") ? x[0].Max(a.Ints("axes"), a.Bool("keep")) : x[0].Max(), "Max") with
        {
            Known = [Issue(5, Check.Golden, "special", null, "a row with NaN: gradient 0; PyTorch gives the whole row NaN")],
        },
        Op("amin", (x, a) => a.Has("axes") ? x[0].Min(a.Ints("axes"), a.Bool("keep")) : x[0].Min(), "Min") with
        {
            Known = [Issue(5, Check.Golden, "special", null, "a row with NaN: gradient 0; PyTorch gives the whole row NaN")],
        },
        Op("argmax", (x, a) => a.Has("axis") ? x[0].ArgMax(a.Int("axis"), a.Bool("keep")) : x[0].ArgMax(), "ArgMax"),
        Op("argmin", (x, a) => a.Has("axis") ? x[0].ArgMin(a.Int("axis"), a.Bool("keep")) : x[0].ArgMin(), "ArgMin"),
        Op("sum_int", (x, a) => a.Has("axis") ? x[0].Sum(a.Int("axis")) : x[0].Sum(), "Sum"),
        Multi("sort", (x, a) => { var (v, i) = x[0].Sort(a.Int("axis"), a.Bool("descending")); return [v, i]; }, "Sort"),
        Op("argsort", (x, a) => x[0].ArgSort(a.Int("axis"), a.Bool("descending")), "ArgSort"),
        Multi("topk", (x, a) => { var (v, i) = x[0].TopK(a.Int("k"), a.Int("axis"), a.Bool("largest")); return [v, i]; }, "TopK"),
        Op("matmul", (x, a) => x[0].Matmul(x[1]), "Matmul"),
    ];
}
