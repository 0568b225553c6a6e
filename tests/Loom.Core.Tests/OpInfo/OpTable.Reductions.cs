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
        Op("cumsum", (x, a) => x[0].CumSum(a.Int("axis")), "CumSum"),
        Op("cumprod", (x, a) => x[0].CumProd(a.Int("axis")), "CumProd"),
        Op("prod", (x, a) => a.Has("axis") ? x[0].Prod(a.Int("axis"), a.Bool("keep")) : x[0].Prod(), "Prod"),
        Op("norm", (x, a) => a.Has("axes") ? x[0].Norm(a.Double("p"), a.Ints("axes"), a.Bool("keep")) : a.Bool("keep")
            ? x[0].Norm(a.Double("p"), Enumerable.Range(0, x[0].Rank).ToArray(), keepDim: true) : x[0].Norm(a.Double("p")), "Norm") with
        {
            NotGradChecked = [("zero_row", "the norm is not differentiable at a zero vector (its gradient there is defined as 0)")],
        },
        Multi("max_with_indices", (x, a) => { var (v, i) = x[0].MaxWithIndices(a.Int("axis"), a.Bool("keep")); return [v, i]; }, "MaxWithIndices"),
        Multi("min_with_indices", (x, a) => { var (v, i) = x[0].MinWithIndices(a.Int("axis"), a.Bool("keep")); return [v, i]; }, "MinWithIndices"),
        Multi("median", (x, a) =>
        {
            if (!a.Has("axis")) return [x[0].Median()];
            var (v, i) = x[0].Median(a.Int("axis"), a.Bool("keep"));
            return [v, i];
        }, "Median") with
        {
            NotGradChecked = [("all_ties", "at tied values the median is not differentiable; PyTorch (and Loom) share the gradient among the ties")],
        },
        Op("quantile", (x, a) => x[0].Quantile(a.Double("q"), a.IntOrNull("axis"), a.Bool("keep"), a.String("interpolation", "linear") switch
        {
            "lower" => QuantileInterpolation.Lower,
            "higher" => QuantileInterpolation.Higher,
            "nearest" => QuantileInterpolation.Nearest,
            "midpoint" => QuantileInterpolation.Midpoint,
            _ => QuantileInterpolation.Linear,
        }), "Quantile"),
        Op("cosine_similarity", (x, a) => Functional.CosineSimilarity(x[0], x[1], a.Int("axis"), a.Double("eps")), "CosineSimilarity") with
        {
            NotGradChecked = [("zero_vector", "the clamped norm of a zero vector has a one-sided derivative")],
        },
    ];
}
