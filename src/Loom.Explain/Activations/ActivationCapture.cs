namespace Loom.Explain;

/// <summary>
/// Forward hooks on named layers of a model that pass each layer's output to a callback; disposing removes every hook,
/// so nothing stays attached (PyTorch's register_forward_hook with its handles kept and removed together).
/// </summary>
public sealed class ActivationCapture : IDisposable
{
    private readonly List<HookHandle> _handles = [];

    /// <param name="layers">Dotted module names (as <see cref="Module.NamedModules"/> gives them); every leaf module when null.</param>
    /// <param name="onOutput">Called with (layer name, output) after each forward of a captured layer; outputs that are not tensors are skipped.</param>
    public ActivationCapture(Module model, IEnumerable<string>? layers, Action<string, Tensor> onOutput)
    {
        var named = model.NamedModules().Where(m => m.Name.Length > 0).ToList();
        var chosen = layers?.ToList() ?? named.Where(m => !m.Module.Children().Any()).Select(m => m.Name).ToList();
        foreach (var name in chosen)
        {
            var module = named.FirstOrDefault(m => m.Name == name).Module
                ?? throw new ArgumentException($"the model has no layer '{name}'; its layers are: {string.Join(", ", named.Select(m => m.Name))}");
            Layers.Add((name, module));
            _handles.Add(module.RegisterForwardHook((_, _, output) =>
            {
                if (output is Tensor t) onOutput(name, t);
            }));
        }
    }

    /// <summary>The captured layers, in the order asked for.</summary>
    public List<(string Name, Module Module)> Layers { get; } = [];

    /// <summary>Each chosen layer's output for <paramref name="inputs"/> (one forward pass without gradients), detached copies.</summary>
    public static Dictionary<string, Tensor> Outputs(Module<Tensor, Tensor> model, Tensor inputs, IEnumerable<string>? layers = null)
    {
        var outputs = new Dictionary<string, Tensor>();
        using var capture = new ActivationCapture(model, layers, (name, output) =>
        {
            using (MemoryScope.Persistent()) outputs[name] = output.Detach().Clone();
        });
        using (new NoGrad()) model.Forward(inputs);
        return outputs;
    }

    public void Dispose()
    {
        foreach (var handle in _handles) handle.Remove();
        _handles.Clear();
    }
}
