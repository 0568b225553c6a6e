using static Loom.Onnx.OnnxGraphWriter;

namespace Loom.Onnx;

/// <summary>The ONNX nodes of each layer the exporter knows, written from the layer's own configuration and parameters.</summary>
internal static class ModuleEmitters
{
    public static bool Handles(Module m) => m is Linear or Conv2d or BatchNormBase or ReLU or Tanh or Sigmoid or LeakyReLU or GELU or Softmax
        or LogSoftmax or MaxPool2d or AvgPool2d or AdaptiveAvgPool2d or Flatten or LayerNorm or Embedding;

    /// <param name="input">The traced input (null when the layer was called in a way its hooks did not see): chooses Gemm over MatMul, and gives pooling and Flatten their sizes.</param>
    public static string Emit(Module m, OnnxGraphWriter w, string scope, string x, Tensor? input, Tensor? output, OnnxExport.IStateSource state)
    {
        string P(Tensor t, string suffix) => state.State(t, $"{scope}.{suffix}");
        switch (m)
        {
            case Linear linear:
                if (input?.Rank == 2)
                    return w.Node(scope, "Gemm", linear.Bias is null ? [x, P(linear.Weight, "weight")] : [x, P(linear.Weight, "weight"), P(linear.Bias, "bias")],
                        Int("transB", 1));
                var product = w.Node(scope, "MatMul", [x, w.Node(scope, "Transpose", [P(linear.Weight, "weight")])]);
                return linear.Bias is null ? product : w.Node(scope, "Add", [product, P(linear.Bias, "bias")]);

            case Conv2d conv:
            {
                var (bH, bW, eH, eW) = conv.PaddingMode == ConvPadding.Same
                    ? SamePads(conv.KernelSize, conv.Dilation)
                    : (conv.Padding.H, conv.Padding.W, conv.Padding.H, conv.Padding.W);
                return w.Node(scope, "Conv", conv.Bias is null ? [x, P(conv.Weight, "weight")] : [x, P(conv.Weight, "weight"), P(conv.Bias, "bias")],
                    Ints("kernel_shape", conv.KernelSize.H, conv.KernelSize.W), Ints("strides", conv.Stride.H, conv.Stride.W),
                    Ints("pads", bH, bW, eH, eW), Ints("dilations", conv.Dilation.H, conv.Dilation.W), Int("group", conv.Groups));
            }

            case BatchNormBase bn:
            {
                if (bn.RunningMean is null || bn.RunningVar is null)
                    throw new OnnxException($"export: module '{scope}' (BatchNorm without running statistics) normalises with batch statistics at inference, which ONNX's BatchNormalization cannot");
                var scale = bn.Weight is null ? w.Initializer($"{scope}.weight", Tensor.Ones(new Shape(bn.NumFeatures), bn.RunningMean.DType)) : P(bn.Weight, "weight");
                var bias = bn.Bias is null ? w.Initializer($"{scope}.bias", Tensor.Zeros(new Shape(bn.NumFeatures), bn.RunningMean.DType)) : P(bn.Bias, "bias");
                return w.Node(scope, "BatchNormalization", [x, scale, bias, P(bn.RunningMean, "running_mean"), P(bn.RunningVar, "running_var")],
                    Float("epsilon", bn.Eps), Float("momentum", 1 - bn.Momentum));
            }

            case ReLU: return w.Node(scope, "Relu", [x]);
            case Tanh: return w.Node(scope, "Tanh", [x]);
            case Sigmoid: return w.Node(scope, "Sigmoid", [x]);
            case LeakyReLU leaky: return w.Node(scope, "LeakyRelu", [x], Float("alpha", leaky.NegativeSlope));
            case GELU gelu: return Gelu(w, scope, x, gelu.ApproximateTanh, input?.DType ?? DType.Float32);
            case Softmax softmax: return w.Node(scope, "Softmax", [x], Int("axis", softmax.Dim));
            case LogSoftmax logSoftmax: return w.Node(scope, "LogSoftmax", [x], Int("axis", logSoftmax.Dim));

            case MaxPool2d pool:
                return w.Node(scope, "MaxPool", [x], Ints("kernel_shape", pool.KernelSize, pool.KernelSize), Ints("strides", pool.Stride, pool.Stride),
                    Ints("pads", pool.Padding, pool.Padding, pool.Padding, pool.Padding), Ints("dilations", pool.Dilation, pool.Dilation),
                    Int("ceil_mode", pool.CeilMode ? 1 : 0));

            case AvgPool2d pool:
                if (pool.DivisorOverride is not null)
                    throw new OnnxException($"export: module '{scope}' (AvgPool2d with divisor_override) has no ONNX equivalent");
                return w.Node(scope, "AveragePool", [x], Ints("kernel_shape", pool.KernelSize, pool.KernelSize), Ints("strides", pool.Stride, pool.Stride),
                    Ints("pads", pool.Padding, pool.Padding, pool.Padding, pool.Padding), Int("count_include_pad", pool.CountIncludePad ? 1 : 0),
                    Int("ceil_mode", pool.CeilMode ? 1 : 0));

            case AdaptiveAvgPool2d adaptive:
            {
                if (adaptive.OutputSize == (1, 1)) return w.Node(scope, "GlobalAveragePool", [x]);
                if (input is null) throw NoTrace(scope, m);
                int h = input.Shape[^2], wd = input.Shape[^1];
                var (oh, ow) = adaptive.OutputSize;
                // Adaptive windows are fixed-size (hence one AveragePool) only when the output size divides the input's.
                if (h % oh != 0 || wd % ow != 0)
                    throw new OnnxException($"export: module '{scope}' (AdaptiveAvgPool2d {oh}×{ow} of {h}×{wd}) has uneven windows, which ONNX pooling cannot express");
                return w.Node(scope, "AveragePool", [x], Ints("kernel_shape", h / oh, wd / ow), Ints("strides", h / oh, wd / ow));
            }

            case Flatten:
                if (input is null || output is null) throw NoTrace(scope, m);
                return Reshape(w, scope, x, input.Shape, output.Shape);

            case LayerNorm norm:
            {
                var shape = new Shape(norm.NormalizedShape);
                var scale = norm.Weight is null ? w.Initializer($"{scope}.weight", Tensor.Ones(shape, norm.Bias?.DType ?? DType.Float32)) : P(norm.Weight, "weight");
                var inputs = norm.Bias is null ? new[] { x, scale } : [x, scale, P(norm.Bias, "bias")];
                return w.Node(scope, "LayerNormalization", inputs, Int("axis", -norm.NormalizedShape.Length), Float("epsilon", norm.Eps));
            }

            case Embedding embedding:
                if (embedding.MaxNorm is not null)
                    throw new OnnxException($"export: module '{scope}' (Embedding with max_norm) renormalises its weights in forward, which ONNX cannot");
                return w.Node(scope, "Gather", [P(embedding.Weight, "weight"), x]);

            default:
                throw new OnnxException($"export: module '{scope}' ({m.GetType().Name}) has no ONNX mapping in Loom's exporter");
        }
    }

    private static OnnxException NoTrace(string scope, Module m) =>
        new($"export: module '{scope}' ({m.GetType().Name}) was not seen by the trace, so its sizes are unknown");

    // PyTorch's (and Loom's) 'same' padding puts the odd one of d·(k − 1) after.
    private static (int, int, int, int) SamePads((int H, int W) kernel, (int H, int W) dilation)
    {
        int th = dilation.H * (kernel.H - 1), tw = dilation.W * (kernel.W - 1);
        return (th / 2, tw / 2, th - th / 2, tw - tw / 2);
    }

    // Opset 17 has no Gelu op (it arrived in 20): 0.5·x·(1 + erf(x/√2)), or the tanh form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    public static string Gelu(OnnxGraphWriter w, string scope, string x, bool approximateTanh, DType dtype)
    {
        string C(string name, double v) => w.Initializer($"{scope}.{name}", Tensor.Scalar(v, dtype));
        string inner;
        if (approximateTanh)
        {
            var cube = w.Node(scope, "Mul", [x, w.Node(scope, "Mul", [x, x])]);
            var poly = w.Node(scope, "Add", [x, w.Node(scope, "Mul", [cube, C("c0", 0.044715)])]);
            inner = w.Node(scope, "Tanh", [w.Node(scope, "Mul", [poly, C("c1", Math.Sqrt(2 / Math.PI))])]);
        }
        else inner = w.Node(scope, "Erf", [w.Node(scope, "Mul", [x, C("inv_sqrt2", 1 / Math.Sqrt(2))])]);
        var onePlus = w.Node(scope, "Add", [inner, C("one", 1)]);
        return w.Node(scope, "Mul", [w.Node(scope, "Mul", [x, onePlus]), C("half", 0.5)]);
    }

    /// <summary>
    /// A reshape that keeps the leading (batch, sequence) dimensions symbolic: Flatten where the result is the 2-D
    /// [∏ leading, ∏ rest], otherwise Reshape whose leading dimensions equal to the input's are 0 (copied at run time).
    /// </summary>
    public static string Reshape(OnnxGraphWriter w, string scope, string x, Shape from, Shape to)
    {
        if (to.Rank == 2)
            for (int k = 1; k <= from.Rank; k++)
                if (Prod(from, 0, k) == to[0] && Prod(from, k, from.Rank) == to[1])
                    return w.Node(scope, "Flatten", [x], Int("axis", k));
        var target = to.Dims.ToArray().Select(d => (long)d).ToArray();
        for (int i = 0; i < Math.Min(from.Rank, to.Rank) && to[i] == from[i]; i++) target[i] = 0;
        var shape = w.Initializer($"{scope}.shape", Tensor.FromArray(target, target.Length));
        return w.Node(scope, "Reshape", [x, shape]);
    }

    private static long Prod(Shape s, int from, int to)
    {
        long p = 1;
        for (int i = from; i < to; i++) p *= s[i];
        return p;
    }
}
