namespace Loom.Tests.OpInfo;

internal static partial class OpTable
{
    private static IEnumerable<OpInfo> Shapes() =>
    [
        Op("reshape", (x, a) => x[0].Reshape(a.Ints("shape")), "Reshape"),
        // View needs a contiguous tensor, so it runs on a contiguous copy of the strided input (the copy is not the point).
        Op("view", (x, a) => x[0].Contiguous().View(a.Ints("shape")), "View"),
        Op("flatten", (x, a) => x[0].Flatten(a.Int("start"), a.Int("end")), "Flatten"),
        Op("transpose", (x, a) => x[0].Transpose(a.Int("a"), a.Int("b")), "Transpose"),
        Op("permute", (x, a) => x[0].Permute(a.Ints("axes")), "Permute"),
        Op("squeeze", (x, a) => a.Has("axis") ? x[0].Squeeze(a.Int("axis")) : x[0].Squeeze(), "Squeeze"),
        Op("unsqueeze", (x, a) => x[0].Unsqueeze(a.Int("axis")), "Unsqueeze"),
        Op("slice", (x, a) => x[0].Slice(a.Int("axis"), a.Int("start"), a.Int("end"), a.Int("step")), "Slice"),
        Op("narrow", (x, a) => x[0].Narrow(a.Int("axis"), a.Int("start"), a.Int("length")), "Narrow"),
        Op("select", (x, a) => x[0].Select(a.Int("axis"), a.Int("index")), "Select"),
        Op("expand", (x, a) => x[0].Expand(a.Ints("shape")), "Expand"),
        Op("broadcast_to", (x, a) => x[0].BroadcastTo(new Shape(a.Ints("shape"))), "BroadcastTo"),
        Op("sum_to_size", (x, a) => x[0].SumToSize(new Shape(a.Ints("shape"))), "SumToSize"),
        Op("cat", (x, a) => Tensor.Cat(x, a.Int("axis")), "Cat"),
        Op("stack", (x, a) => Tensor.Stack(x, a.Int("axis")), "Stack"),
        Multi("split", (x, a) => a.Has("size") ? x[0].Split(a.Int("size"), a.Int("axis")) : x[0].Split(a.Ints("sizes"), a.Int("axis")), "Split"),
        Multi("chunk", (x, a) => x[0].Chunk(a.Int("chunks"), a.Int("axis")), "Chunk"),
        Op("repeat", (x, a) => x[0].Repeat(a.Ints("repeats")), "Repeat"),
        Op("flip", (x, a) => x[0].Flip(a.Ints("axes")), "Flip"),
        Op("tril", (x, a) => x[0].Tril(a.Int("diagonal")), "Tril"),
        Op("triu", (x, a) => x[0].Triu(a.Int("diagonal")), "Triu"),
        Op("clone", (x, a) => x[0].Clone(), "Clone"),
        Op("contiguous", (x, a) => x[0].Contiguous(), "Contiguous"),
        Op("copy_", (x, a) => x[0].Clone().CopyFrom(x[1]), "CopyFrom"),
        Op("to_float32", (x, a) => x[0].To(DType.Float32), "To") with { GradCheckElsewhere = "Autograd/ConversionGradTests (float64 through float32 and back)" },
    ];

    private static IEnumerable<OpInfo> Indexing() =>
    [
        Op("index_select", (x, a) => x[0].IndexSelect(a.Int("axis"), x[1]), "IndexSelect"),
        Op("index_add", (x, a) => x[0].IndexAdd(a.Int("axis"), x[1], x[2]), "IndexAdd"),
        Op("gather", (x, a) => x[0].Gather(a.Int("axis"), x[1]), "Gather"),
        Op("scatter_add", (x, a) => x[0].ScatterAdd(a.Int("axis"), x[1], x[2]), "ScatterAdd"),
        Op("scatter_add_", (x, a) => x[0].Clone().ScatterAddInPlace(a.Int("axis"), x[1], x[2]), "ScatterAddInPlace"),
        Op("masked_select", (x, a) => x[0].MaskedSelect(x[1]), "MaskedSelect"),
        Op("masked_scatter", (x, a) => x[0].MaskedScatter(x[1], x[2]), "MaskedScatter"),
        Op("masked_fill", (x, a) => x[0].MaskedFill(x[1], a.Double("value")), "MaskedFill"),
        Op("nonzero", (x, a) => x[0].Nonzero(), "Nonzero"),
    ];

    private static IEnumerable<OpInfo> Creation() =>
    [
        Op("arange", (x, a) => Tensor.Arange(a.Double("start"), a.Double("end"), a.Double("step"), a.DType("dtype")), "Arange"),
        Op("arange_int", (x, a) => a.Ints("bounds") switch
        {
            [var end] => Tensor.Arange(end),
            [var start, var end] => Tensor.Arange(start, end),
            [var start, var end, var step] => Tensor.Arange(start, end, step),
            _ => throw new ArgumentException("bounds"),
        }, "Arange"),
        Op("linspace", (x, a) => Tensor.Linspace(a.Double("start"), a.Double("end"), a.Int("steps"), DType.Float64), "Linspace"),
        Op("eye", (x, a) => Tensor.Eye(a.Int("n"), a.Int("m")), "Eye"),
        Op("full", (x, a) => Tensor.Full(new Shape(a.Ints("shape")), a.Double("value")), "Full"),
    ];
}
