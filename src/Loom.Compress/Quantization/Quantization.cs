using Loom.Nn;

namespace Loom.Compress;

/// <summary>A model after quantisation, with the dotted names of the layers converted and of those left in float.</summary>
public sealed record QuantizedModel(Module<Tensor, Tensor> Model, IReadOnlyList<string> Quantized, IReadOnlyList<string> LeftInFloat);

/// <summary>Post-training quantisation of whole models.</summary>
public static class Quantization
{
    /// <summary>The name a run's config.json gives dynamic int8 quantisation (<c>"quantization": "dynamic-int8"</c>).</summary>
    public const string DynamicInt8 = "dynamic-int8";

    /// <summary>
    /// Replaces every <see cref="Linear"/> in <paramref name="model"/> by its <see cref="QuantizedLinear"/> (PyTorch:
    /// <c>torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)</c>), in place. A layer whose
    /// parent keeps it in a field (and so cannot swap it) stays in float and is listed as such.
    /// </summary>
    public static QuantizedModel QuantizeDynamic(Module<Tensor, Tensor> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is Linear root) return new QuantizedModel(QuantizedLinear.FromLinear(root), [""], []);
        var quantized = new List<string>();
        var leftInFloat = new List<string>();
        foreach (var (name, module) in model.NamedModules().ToList())
        {
            if (module is not Linear linear) continue;
            try
            {
                model.SetSubmodule(name, QuantizedLinear.FromLinear(linear));
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
    /// checkpoint is not silently converted) and every quantised layer must pass its Validate (<see cref="QuantizedLinear.Validate"/>, <see cref="StaticQuantizedLayer.Validate"/>).
    /// Errors are one line naming <paramref name="source"/> and the tensor.
    /// </summary>
    public static void LoadStateDict(Module model, IReadOnlyDictionary<string, Tensor> state, string source)
    {
        foreach (var (key, own) in model.StateDict())
            if (state.TryGetValue(key, out var stored) && stored.DType != own.DType)
                throw new InvalidDataException($"{source}: tensor '{key}' is {stored.DType.Name()}, but the quantised model holds {own.DType.Name()}; is this the checkpoint of an unquantised run?");
        model.LoadStateDict(state);
        foreach (var (name, module) in model.NamedModules())
        {
            Action? validate = module switch
            {
                QuantizedLinear q => q.Validate,
                StaticQuantizedLayer s => s.Validate,
                _ => null,
            };
            if (validate is null) continue;
            try
            {
                validate();
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{source}: layer '{name}': {e.Message}", e);
            }
        }
    }

    /// <summary>Bytes of a model's state as stored: each tensor's elements times its element size.</summary>
    public static long StateSizeInBytes(Module model) => model.StateDict().Values.Sum(t => (long)t.Numel * t.DType.SizeInBytes());
}
