using System.Globalization;

namespace Loom.Compress;

/// <summary>
/// Post-training static int8 quantisation of a <see cref="Sequential"/> model (PyTorch's eager-mode
/// <c>prepare</c> → calibrate → <c>convert</c>): batch norm is folded into the layer before it, the input range of every
/// convolution and linear layer is found on calibration data (<see cref="CalibrationMethod"/>), and those layers become
/// <see cref="StaticQuantizedConv2d"/>/<see cref="StaticQuantizedLinear"/>. Where only ReLU, max pooling, flatten, dropout
/// or identity lie between two quantised layers, the activations stay u8: the first requantises straight into the second's
/// input parameters (the ReLU is fused into that requantisation's clamp at zero point 0, the pooling runs on u8).
/// </summary>
public static class StaticQuantization
{
    /// <summary>The name a run's config.json gives static int8 quantisation (<c>"quantization": "static-int8"</c>).</summary>
    public const string StaticInt8 = "static-int8";

    /// <summary>Quantises <paramref name="model"/> in place (eval mode) from the calibration batches.</summary>
    public static QuantizedModel Quantize(Sequential model, IReadOnlyList<Tensor> calibration, CalibrationMethod method)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(calibration);
        if (calibration.Count == 0) throw new ArgumentException("static int8: calibration needs at least one batch");
        model.Eval();
        BatchNormFolding.Fold(model);
        var plan = Plan(model);
        var observers = plan.Layers.ToDictionary(i => i, _ => new ActivationObserver(method));
        Observe(model, calibration, observers, histogram: false);
        if (method != CalibrationMethod.MinMax) Observe(model, calibration, observers, histogram: true);
        var inputParams = observers.ToDictionary(o => o.Key, o => o.Value.Params());
        Convert(model, plan, i => inputParams[i]);
        return new QuantizedModel(model, plan.Layers.Select(Name).ToList(), plan.LeftInFloat);
    }

    /// <summary>
    /// The structure of a statically quantised <paramref name="model"/> with placeholder parameters, in place: what a
    /// static int8 checkpoint loads into (<see cref="Quantization.LoadStateDict"/>).
    /// </summary>
    public static Sequential Prepare(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Eval();
        BatchNormFolding.Fold(model);
        Convert(model, Plan(model), _ => new QuantParams(1f, 0));
        return model;
    }

    /// <summary>
    /// Static int8 in place (eval mode, batch norm folded) with the input parameters of each quantisable layer given
    /// by index: what quantisation-aware training observed instead of a calibration pass.
    /// </summary>
    internal static QuantizedModel Convert(Sequential model, Func<int, QuantParams> inputParams)
    {
        model.Eval();
        BatchNormFolding.Fold(model);
        var plan = Plan(model);
        Convert(model, plan, inputParams);
        return new QuantizedModel(model, plan.Layers.Select(Name).ToList(), plan.LeftInFloat);
    }

    private sealed record QuantizationPlan(List<int> Layers, Dictionary<int, int> Consumer, List<string> LeftInFloat);

    private static string Name(int index) => index.ToString(CultureInfo.InvariantCulture);

    internal static bool Quantizable(Module m) => m is Linear or Conv2d { Groups: 1, PaddingMode: null };

    // Modules that u8 activations can pass through unchanged in meaning (ReLU only when fused, see Convert).
    private static bool PassesU8(Module m) =>
        m is ReLU or Flatten or Dropout or Identity or QuantizedMaxPool2d || m is MaxPool2d { Dilation: 1, CeilMode: false };

    private static QuantizationPlan Plan(Sequential model)
    {
        var layers = new List<int>();
        var leftInFloat = new List<string>();
        for (int i = 0; i < model.Count; i++)
        {
            if (Quantizable(model[i])) layers.Add(i);
            else if (model[i] is Conv2d) leftInFloat.Add(Name(i));
        }
        var consumer = new Dictionary<int, int>();
        foreach (int i in layers)
        {
            int j = i + 1;
            while (j < model.Count && PassesU8(model[j])) j++;
            if (j < model.Count && Quantizable(model[j])) consumer[i] = j;
        }
        if (layers.Count == 0) throw new ArgumentException("static int8: the model has no convolution or linear layer to quantise");
        return new QuantizationPlan(layers, consumer, leftInFloat);
    }

    private static void Observe(Sequential model, IReadOnlyList<Tensor> batches, Dictionary<int, ActivationObserver> observers, bool histogram)
    {
        using var noGrad = new NoGrad();
        foreach (var batch in batches)
        {
            var x = batch;
            for (int i = 0; i < model.Count; i++)
            {
                if (observers.TryGetValue(i, out var observer))
                {
                    var values = x.Contiguous().AsReadOnlySpan<float>();
                    if (histogram) observer.ObserveHistogram(values);
                    else observer.ObserveRange(values);
                }
                x = model[i].Forward(x);
            }
        }
    }

    private static void Convert(Sequential model, QuantizationPlan plan, Func<int, QuantParams> inputParams)
    {
        foreach (int i in plan.Layers)
        {
            QuantParams? output = null;
            if (plan.Consumer.TryGetValue(i, out int j))
            {
                var next = inputParams(j);
                bool relu = false;
                for (int k = i + 1; k < j; k++)
                {
                    if (model[k] is ReLU)
                    {
                        relu = true;
                        model.SetSubmodule(Name(k), new Identity());
                    }
                    else if (model[k] is MaxPool2d pool) model.SetSubmodule(Name(k), QuantizedMaxPool2d.FromMaxPool2d(pool));
                }
                // A ReLU's output range starts at 0, so the next layer's zero point is 0 and the requantising clamp at 0
                // is the ReLU; anything else would mean the parameters do not come from post-ReLU values.
                if (relu && next.ZeroPoint != 0)
                    throw new InvalidOperationException($"static int8: layer {j} follows a ReLU but its input zero point is {next.ZeroPoint}, not 0");
                output = next;
            }
            Module<Tensor, Tensor> quantized = model[i] switch
            {
                Conv2d c => StaticQuantizedConv2d.FromConv2d(c, inputParams(i), output),
                Linear l => StaticQuantizedLinear.FromLinear(l, inputParams(i), output),
                _ => throw new InvalidOperationException(),
            };
            model.SetSubmodule(Name(i), quantized);
        }
    }
}
