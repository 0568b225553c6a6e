namespace Loom.Compress;

/// <summary>A model after quantisation, with the dotted names of the layers converted and of those left in float.</summary>
public sealed record QuantizedModel(Module<Tensor, Tensor> Model, IReadOnlyList<string> Quantized, IReadOnlyList<string> LeftInFloat);

/// <summary>Post-training quantisation of whole models.</summary>
public static class Quantization
{
    /// <summary>The name a run's config.json gives dynamic int8 quantisation (<c>"quantization": "dynamic-int8"</c>).</summary>
    public const string DynamicInt8 = "dynamic-int8";

    /// <summary>
    /// Dynamic int8 quantisation in place (PyTorch: <c>torch.ao.quantization.quantize_dynamic(model, {nn.Linear,
    /// nn.LSTM, nn.GRU}, dtype=torch.qint8)</c>, which also covers the Linear layers inside attention): every float32
    /// weight matrix whose layer can multiply through a packed weight — <see cref="Linear"/>, the input projections of
    /// <see cref="MultiheadAttention"/>, W_ih and W_hh of <see cref="LSTM"/>, <see cref="GRU"/> and <see cref="RNN"/> —
    /// is replaced by its <see cref="DynamicInt8Weight"/> (<see cref="Module.PackParameter"/>). The layers stay where
    /// they are, so parents holding them in typed fields (a GPT block's <c>c_attn</c>, a classifier's LSTM) keep
    /// working. Other matrices (embeddings) stay float and are listed as such; convolutions are static quantisation's.
    /// </summary>
    /// <remarks>Names are the parameters' dotted names (<c>lstm.weight_ih_l0</c>, <c>h.0.attn.c_attn.weight</c>).</remarks>
    public static QuantizedModel QuantizeDynamic(Module<Tensor, Tensor> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var quantized = new List<string>();
        var leftInFloat = new List<string>();
        foreach (var (name, parameter) in model.NamedParameters().ToList())
        {
            if (parameter.Rank != 2 || parameter.DType != DType.Float32) continue;
            try
            {
                model.PackParameter(name, DynamicInt8Weight.FromFloat(parameter, name));
                quantized.Add(name);
            }
            catch (NotSupportedException)
            {
                leftInFloat.Add(name);
            }
        }
        return new QuantizedModel(model, quantized, leftInFloat);
    }

    /// <summary>
    /// Loads an int8 checkpoint into a quantised model: every tensor must have the dtype the model holds (a float
    /// checkpoint is not silently converted) and every int8 weight must pass its Validate (<see cref="PackedWeight.Validate"/>, <see cref="StaticQuantizedLayer.Validate"/>).
    /// Errors are one line naming <paramref name="source"/> and the tensor.
    /// </summary>
    public static void LoadStateDict(Module model, IReadOnlyDictionary<string, Tensor> state, string source)
    {
        foreach (var (key, own) in model.StateDict())
            if (state.TryGetValue(key, out var stored) && stored.DType != own.DType)
                throw new InvalidDataException($"{source}: tensor '{key}' is {stored.DType.Name()}, but the quantised model holds {own.DType.Name()}; is this the checkpoint of an unquantised run?");
        model.LoadStateDict(state);
        var checks = model.NamedModules()
            .Select(m => (Name: $"layer '{m.Name}'", Validate: m.Module is StaticQuantizedLayer s ? s.Validate : (Action?)null))
            .Concat(model.NamedPackedWeights().Select(w => (Name: $"weight '{w.Name}'", Validate: (Action?)w.Weight.Validate)));
        foreach (var (name, validate) in checks)
        {
            if (validate is null) continue;
            try
            {
                validate();
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{source}: {name}: {e.Message}", e);
            }
        }
    }

    /// <summary>Bytes of a model's state as stored: each tensor's elements times its element size.</summary>
    public static long StateSizeInBytes(Module model) => model.StateDict().Values.Sum(t => (long)t.Numel * t.DType.SizeInBytes());
}
