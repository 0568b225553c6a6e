namespace Loom.Tests.OpInfo;

internal static partial class OpTable
{
    private static IEnumerable<OpInfo> Layers() =>
    [
        Op("linear", (x, a) => Functional.Linear(x[0], x[1], Opt(x, 2)), "Linear"),
        Op("conv2d", (x, a) => Functional.Conv2d(x[0], x[1], Opt(x, 2), a.Pair("stride"), a.Pair("padding"), a.Pair("dilation"), a.Int("groups")), "Conv2d"),
        Op("conv1d", (x, a) => Functional.Conv1d(x[0], x[1], Opt(x, 2), a.Int("stride"), a.Int("padding"), a.Int("dilation"), a.Int("groups")), "Conv1d"),
        Op("conv_transpose2d", (x, a) => Functional.ConvTranspose2d(x[0], x[1], Opt(x, 2), a.Pair("stride"), a.Pair("padding"), a.Pair("output_padding"),
            a.Pair("dilation"), a.Int("groups")), "ConvTranspose2d"),
        Op("max_pool2d", (x, a) => Functional.MaxPool2d(x[0], a.Pair("kernel"), a.Pair("stride"), a.Pair("padding"), a.Pair("dilation"), a.Bool("ceil_mode")), "MaxPool2d"),
        Op("max_pool1d", (x, a) => Functional.MaxPool1d(x[0], a.Int("kernel"), a.Int("stride"), a.Int("padding"), a.Int("dilation")), "MaxPool1d"),
        Op("avg_pool2d", (x, a) => Functional.AvgPool2d(x[0], a.Pair("kernel"), a.Pair("stride"), a.Pair("padding"), a.Bool("count_include_pad"), a.Bool("ceil_mode")),
            "AvgPool2d"),
        Op("avg_pool1d", (x, a) => Functional.AvgPool1d(x[0], a.Int("kernel"), a.Int("stride"), a.Int("padding"), a.Bool("count_include_pad")), "AvgPool1d"),
        Op("adaptive_avg_pool2d", (x, a) => Functional.AdaptiveAvgPool2d(x[0], a.Pair("size")), "AdaptiveAvgPool2d"),
        Op("layer_norm", (x, a) => Functional.LayerNorm(x[0], a.Ints("shape"), Opt(x, 1), Opt(x, 2), a.Double("eps")), "LayerNorm"),
        Op("rms_norm", (x, a) => Functional.RmsNorm(x[0], a.Ints("shape"), Opt(x, 1), a.Double("eps")), "RmsNorm"),
        // With running statistics the outputs are y and the statistics after the in-place update (which needs them contiguous).
        Multi("batch_norm", (x, a) =>
        {
            if (!a.Bool("running")) return [Functional.BatchNorm(x[0], null, null, null, null, a.Bool("training"), 0.1, a.Double("eps"))];
            var (mean, variance) = (x[1].Contiguous(), x[2].Contiguous());
            return [Functional.BatchNorm(x[0], mean, variance, Opt(x, 3), Opt(x, 4), a.Bool("training"), 0.1, a.Double("eps")), mean, variance];
        }, "BatchNorm"),
        Op("group_norm", (x, a) => Functional.GroupNorm(x[0], a.Int("groups"), Opt(x, 1), Opt(x, 2), a.Double("eps")), "GroupNorm"),
        Op("embedding", (x, a) => Functional.Embedding(x[0], x[1], a.IntOrNull("padding_idx")), "Embedding") with
        {
            NotGradChecked = [("padding", "the padding row's gradient is zero by definition, which finite differences do not see")],
        },
        Op("one_hot", (x, a) => Functional.OneHot(x[0], a.Int("classes")), "OneHot"),
        Op("dropout_eval", (x, a) => Functional.Dropout(x[0], 0.5, training: false), "Dropout"),
        Multi("recurrent_layer", (x, a) =>
        {
            var cell = a.String("cell") switch
            {
                "lstm" => RecurrentCell.Lstm,
                "gru" => RecurrentCell.Gru,
                "rnn_tanh" => RecurrentCell.RnnTanh,
                _ => RecurrentCell.RnnRelu,
            };
            var (output, h, c) = Functional.RecurrentLayer(cell, x[0], x[1], x[2], x[3], x[4], x[5], Opt(x, 6), a.Bool("batch_first"));
            return c is null ? [output, h] : [output, h, c];
        }, "RecurrentLayer"),
    ];
}
