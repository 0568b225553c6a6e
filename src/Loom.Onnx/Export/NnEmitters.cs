using static Loom.Onnx.OnnxExportContext;

namespace Loom.Onnx;

/// <summary>The ONNX graphs of Loom.Nn's composite modules (recurrent networks, transformer encoders), which export through a context.</summary>
internal static class NnEmitters
{
    // ONNX gate k is Loom's (PyTorch's) gate order[k]: LSTM (i, o, f, c) from (i, f, g, o), GRU (z, r, h) from (r, z, n).
    private static readonly int[] LstmGateOrder = [0, 3, 1, 2], GruGateOrder = [1, 0, 2];

    public static string Recurrent(OnnxExportContext onnx, RNNBase rnn, string input, string? lengths)
    {
        var (op, order) = rnn switch
        {
            LSTM => ("LSTM", LstmGateOrder),
            GRU => ("GRU", GruGateOrder),
            _ => throw new OnnxException($"export: module '{OnnxExport.Display(onnx.Scope)}' ({rnn.GetType().Name}) has no ONNX mapping in Loom's exporter (LSTM and GRU do)"),
        };
        var state = rnn.NamedParameters().ToDictionary(p => p.Name, p => (Tensor)p.Parameter);
        int hidden = rnn.HiddenSize, dirs = rnn.NumDirections;
        Tensor Reorder(Tensor t) => Tensor.Cat(order.Select(g => t.Narrow(0, g * hidden, hidden)).ToList(), 0);
        // ONNX's sequences are [T, B, ·] (layout = 1 is not implemented by every runtime).
        var x = rnn.BatchFirst ? onnx.Op("Transpose", [input], Ints("perm", 1, 0, 2)) : input;
        for (int layer = 0; layer < rnn.NumLayers; layer++)
        {
            var w = new List<Tensor>();
            var r = new List<Tensor>();
            var b = new List<Tensor>();
            for (int d = 0; d < dirs; d++)
            {
                string suffix = $"_l{layer}" + (d == 1 ? "_reverse" : "");
                w.Add(Reorder(state["weight_ih" + suffix]));
                r.Add(Reorder(state["weight_hh" + suffix]));
                b.Add(rnn.HasBias
                    ? Tensor.Cat([Reorder(state["bias_ih" + suffix]), Reorder(state["bias_hh" + suffix])], 0)
                    : Tensor.Zeros(new Shape(2 * order.Length * hidden), onnx.DType));
            }
            var inputs = new List<string>
            {
                x, onnx.Constant($"W_l{layer}", Tensor.Stack(w, 0).Detach()), onnx.Constant($"R_l{layer}", Tensor.Stack(r, 0).Detach()),
                onnx.Constant($"B_l{layer}", Tensor.Stack(b, 0).Detach()),
            };
            if (lengths is not null) inputs.Add(lengths);
            var attributes = new List<global::Onnx.AttributeProto> { Int("hidden_size", hidden), Str("direction", dirs == 2 ? "bidirectional" : "forward") };
            if (rnn is GRU) attributes.Add(Int("linear_before_reset", 1));
            var y = onnx.Op(op, inputs, [.. attributes]); // [T, D, B, H]
            x = onnx.Op("Reshape", [onnx.Op("Transpose", [y], Ints("perm", 0, 2, 1, 3)), onnx.Longs("merged", 0, 0, dirs * hidden)]);
        }
        return rnn.BatchFirst ? onnx.Op("Transpose", [x], Ints("perm", 1, 0, 2)) : x;
    }

    public static string Encoder(OnnxExportContext onnx, TransformerEncoder encoder, string input, string? keyPadding)
    {
        var x = input;
        foreach (var layer in encoder.Layers)
            x = EncoderLayer(onnx.Within(layer), layer, x, keyPadding);
        return encoder.Norm is null ? x : onnx.Module(encoder.Norm, x);
    }

    private static string EncoderLayer(OnnxExportContext onnx, TransformerEncoderLayer layer, string x, string? keyPadding)
    {
        string Attention(string y) => SelfAttention(onnx.Within(layer.SelfAttn), layer.SelfAttn, y, keyPadding);
        string FeedForward(string y)
        {
            var hidden = onnx.Module(layer.Linear1, y);
            hidden = layer.Activation == "gelu" ? onnx.Gelu(hidden, approximateTanh: false) : onnx.Op("Relu", [hidden]);
            return onnx.Module(layer.Linear2, hidden);
        }
        string Residual(string y, LayerNorm norm, Func<string, string> sublayer) => layer.NormFirst
            ? onnx.Op("Add", [y, sublayer(onnx.Module(norm, y))])
            : onnx.Module(norm, onnx.Op("Add", [y, sublayer(y)]));
        return Residual(Residual(x, layer.Norm1, Attention), layer.Norm2, FeedForward);
    }

    private static string SelfAttention(OnnxExportContext onnx, MultiheadAttention attention, string x, string? keyPadding)
    {
        if (attention.InProjWeight is null)
            throw new OnnxException($"export: module '{OnnxExport.Display(onnx.Scope)}' (MultiheadAttention with separate q, k, v weights) has no ONNX mapping in Loom's exporter");
        if (!attention.BatchFirst) x = onnx.Op("Transpose", [x], Ints("perm", 1, 0, 2));
        var qkv = onnx.Op("MatMul", [x, onnx.Op("Transpose", [onnx.Parameter(attention.InProjWeight)])]);
        if (attention.InProjBias is not null) qkv = onnx.Op("Add", [qkv, onnx.Parameter(attention.InProjBias)]);
        var heads = onnx.SelfAttention(qkv, attention.InnerDim, attention.NumHeads, isCausal: false, keyPadding);
        var output = onnx.Module(attention.OutProj, heads);
        return attention.BatchFirst ? output : onnx.Op("Transpose", [output], Ints("perm", 1, 0, 2));
    }
}
