namespace Loom.Nn.Tests;

/// <summary>
/// One case written by tests/golden/make_golden.py: PyTorch's inputs, state dict, outputs and gradients of
/// Σ_i Σ output_i · probe_i. <see cref="Check"/> loads the state into a Loom module, runs the same forward and
/// compares outputs and every gradient.
/// </summary>
internal sealed class LayerGolden
{
    private readonly OrderedDictionary<string, Tensor> _t;

    public LayerGolden(string name)
    {
        var file = SafeTensors.Load(Path.Combine(AppContext.BaseDirectory, "golden", "layers", name + ".safetensors"));
        _t = file.Tensors;
        Args = JsonDocument.Parse(file.Metadata["args"]).RootElement;
    }

    /// <summary>The constructor arguments the case was made with.</summary>
    public JsonElement Args { get; }

    public Tensor Input(int i) => _t[$"input.{i}"];

    /// <summary>The module's state dict, PyTorch names.</summary>
    public Dictionary<string, Tensor> State =>
        _t.Where(kv => kv.Key.StartsWith("param.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["param.".Length..], kv => kv.Value);

    public int OutputCount => _t.Keys.Count(k => k.StartsWith("output.", StringComparison.Ordinal));

    /// <summary>
    /// Loads the state into <paramref name="module"/>, runs <paramref name="forward"/> on the case's inputs (float
    /// inputs require grad), and asserts that outputs, input gradients and parameter gradients match.
    /// </summary>
    public void Check(Module module, Func<Tensor[], Tensor[]> forward, double atol = 1e-5, double rtol = 1e-5)
    {
        module.LoadStateDict(State);
        var inputs = _t.Where(kv => kv.Key.StartsWith("input.", StringComparison.Ordinal))
            .Select(kv => kv.Value.DType.IsFloatingPoint() ? kv.Value.Clone().RequiresGrad_() : kv.Value).ToArray();
        var outputs = forward(inputs);
        Assert.Equal(OutputCount, outputs.Length);
        Tensor? loss = null;
        for (int i = 0; i < outputs.Length; i++)
        {
            TensorAssert.Close(_t[$"output.{i}"], outputs[i], atol, rtol);
            var term = outputs[i].Mul(_t[$"probe.{i}"]).Sum();
            loss = loss is null ? term : loss.Add(term);
        }
        loss!.Backward();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (!_t.TryGetValue($"grad.input.{i}", out var expected)) continue;
            Assert.True(inputs[i].Grad is not null, $"input {i} received no gradient");
            TensorAssert.Close(expected, inputs[i].Grad!, atol, rtol);
        }
        foreach (var (name, p) in module.NamedParameters())
        {
            if (!_t.TryGetValue($"grad.param.{name}", out var expected)) continue;
            Assert.True(p.Grad is not null, $"parameter {name} received no gradient");
            try
            {
                TensorAssert.Close(expected, p.Grad!, atol, rtol);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"gradient of {name}: {e.Message}");
            }
        }
    }
}
