using System.Globalization;

namespace Loom.Compress;

/// <summary>
/// A convolution or linear layer trained with fake quantisation (PyTorch's <c>torch.ao.nn.qat.Conv2d</c>/<c>Linear</c>):
/// its input goes through a <see cref="FakeQuantize"/> (per tensor, moving-average range) and its weights through
/// per-channel symmetric fake quantisation, so training sees the rounding static int8 will apply. The wrapped layer's
/// own parameters are trained (an optimiser built before wrapping keeps working).
/// </summary>
public sealed class FakeQuantizedLayer : Module<Tensor, Tensor>
{
    public FakeQuantizedLayer(Module<Tensor, Tensor> layer, double averagingConstant = 0.01)
    {
        if (layer is not (Linear or Conv2d { Groups: 1, PaddingMode: null }))
            throw new NotSupportedException($"quantisation-aware training: wraps linear layers and ungrouped convolutions with numeric padding, not {layer.GetType().Name}");
        Layer = RegisterModule("layer", layer);
        InputQuantizer = RegisterModule("input_quantizer", new FakeQuantize(averagingConstant));
    }

    /// <summary>The float layer being trained.</summary>
    public Module<Tensor, Tensor> Layer { get; }

    /// <summary>The observer and fake quantiser of the layer's input.</summary>
    public FakeQuantize InputQuantizer { get; }

    protected override Tensor ForwardCore(Tensor input)
    {
        var x = InputQuantizer.Forward(input);
        return Layer switch
        {
            Conv2d c => Functional.Conv2d(x, FakeQuantize.ApplyPerChannel(c.Weight), c.Bias, c.Stride, c.Padding, c.Dilation, 1),
            Linear l => Functional.Linear(x, FakeQuantize.ApplyPerChannel(l.Weight), l.Bias),
            _ => throw new InvalidOperationException(),
        };
    }
}

/// <summary>
/// Quantisation-aware training of a <see cref="Sequential"/> model (PyTorch's eager-mode <c>prepare_qat</c> →
/// train → <c>convert</c>): <see cref="Prepare"/> wraps every layer static int8 quantises in a
/// <see cref="FakeQuantizedLayer"/>, the model is fine-tuned, and <see cref="Convert"/> turns it into exactly the
/// structure and checkpoint format of post-training static quantisation (<see cref="StaticQuantization"/>), with the
/// activation ranges the training observed instead of calibrated ones.
/// </summary>
/// <remarks>
/// Batch norm stays in the model while training (with batch statistics, as in the float recipe) and is folded at
/// conversion. The weights are fake-quantised before the fold, which gives the same int8 values as quantising the
/// folded weights: folding scales each output channel by one factor s, and symmetric per-channel quantisation scales
/// its step by |s| with it (up to float rounding at exact half steps).
/// </remarks>
public static class QuantizationAwareTraining
{
    /// <summary>Wraps the quantisable layers of <paramref name="model"/> in place; returns their indices.</summary>
    public static IReadOnlyList<int> Prepare(Sequential model, double averagingConstant = 0.01)
    {
        ArgumentNullException.ThrowIfNull(model);
        var wrapped = new List<int>();
        for (int i = 0; i < model.Count; i++)
        {
            if (!StaticQuantization.Quantizable(model[i])) continue;
            model.SetSubmodule(i.ToString(CultureInfo.InvariantCulture), new FakeQuantizedLayer(model[i], averagingConstant));
            wrapped.Add(i);
        }
        if (wrapped.Count == 0) throw new ArgumentException("quantisation-aware training: the model has no convolution or linear layer to quantise");
        return wrapped;
    }

    /// <summary>
    /// Converts a prepared and trained model to static int8 in place (eval mode): each layer's input parameters are
    /// the ones its <see cref="FakeQuantize"/> observed.
    /// </summary>
    public static QuantizedModel Convert(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var inputParams = new Dictionary<int, QuantParams>();
        for (int i = 0; i < model.Count; i++)
        {
            if (model[i] is not FakeQuantizedLayer f) continue;
            if (!f.InputQuantizer.Observed)
                throw new InvalidOperationException($"quantisation-aware training: layer {i} has observed no batch; train (or run the model in training mode) before converting");
            inputParams[i] = f.InputQuantizer.Params;
            model.SetSubmodule(i.ToString(CultureInfo.InvariantCulture), f.Layer);
        }
        if (inputParams.Count == 0) throw new ArgumentException("quantisation-aware training: the model was not prepared (no fake-quantised layer)");
        return StaticQuantization.Convert(model, i => inputParams.TryGetValue(i, out var qp) ? qp
            : throw new InvalidOperationException($"quantisation-aware training: layer {i} can be quantised but was not prepared"));
    }
}
