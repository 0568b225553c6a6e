namespace Loom.Nn;

/// <summary>Applies its children in order, each output feeding the next; children are named "0", "1", ….</summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    private readonly List<Module<Tensor, Tensor>> _layers = [];

    public Sequential(params Module<Tensor, Tensor>[] layers)
    {
        foreach (var layer in layers) Append(layer);
    }

    public Sequential Append(Module<Tensor, Tensor> layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    public int Count => _layers.Count;

    /// <summary>A layer may be swapped for any module with the same forward signature (a quantised or pruned form).</summary>
    protected override void OnChildReplacing(string name, Module current, Module replacement)
    {
        if (replacement is not Module<Tensor, Tensor> layer)
            throw new ArgumentException($"Sequential: layer {name} must map a tensor to a tensor, but {replacement.GetType().Name} does not");
        _layers[_layers.IndexOf((Module<Tensor, Tensor>)current)] = layer;
    }

    public Module<Tensor, Tensor> this[int index] => _layers[index];

    /// <remarks>
    /// A <see cref="Linear"/> followed by ReLU, GELU, SiLU, sigmoid or tanh runs as one fused op
    /// (<see cref="Linear.Forward(Tensor, Activation)"/>): the same values, one pass over the output instead of three.
    /// An activation module with hooks is run on its own so that its hooks still see its input and output.
    /// </remarks>
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = input;
        for (int i = 0; i < _layers.Count; i++)
        {
            if (_layers[i] is Linear linear && i + 1 < _layers.Count && FusableActivation(_layers[i + 1]) is { } activation)
            {
                x = linear.Forward(x, activation);
                i++;
                continue;
            }
            x = _layers[i].Forward(x);
        }
        return x;
    }

    private static Activation? FusableActivation(Module<Tensor, Tensor> module) => module.HasHooks ? null : module switch
    {
        ReLU => Activation.Relu,
        GELU gelu => gelu.ApproximateTanh ? Activation.GeluTanh : Activation.Gelu,
        SiLU => Activation.Silu,
        Sigmoid => Activation.Sigmoid,
        Tanh => Activation.Tanh,
        _ => null,
    };
}
