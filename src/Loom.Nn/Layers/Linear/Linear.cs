namespace Loom.Nn;

/// <summary>
/// y = x·Wᵀ + b, as <c>torch.nn.Linear</c>. Weight [out, in] and bias [out] start uniform in ±1/√in (PyTorch's
/// default: Kaiming uniform with a = √5).
/// </summary>
/// <remarks>Shapes: input [*, in] → output [*, out].</remarks>
public sealed class Linear : Module<Tensor, Tensor>
{
    public Linear(int inFeatures, int outFeatures, bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentException($"Linear: features must be positive, got in={inFeatures}, out={outFeatures}");
        (InFeatures, OutFeatures) = (inFeatures, outFeatures);
        double bound = 1 / Math.Sqrt(inFeatures);
        _weight = RegisterParameter("weight", new Parameter(Tensor.Uniform(new Shape(outFeatures, inFeatures), -bound, bound, generator, dtype)))!;
        Bias = RegisterParameter("bias", bias ? new Parameter(Tensor.Uniform(new Shape(outFeatures), -bound, bound, generator, dtype)) : null);
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    private Parameter? _weight;

    /// <summary>[out, in]. Gone once the layer runs packed (<see cref="PackedWeight"/>): reading it then throws.</summary>
    public Parameter Weight => _weight ?? throw new InvalidOperationException(
        $"Linear({InFeatures}, {OutFeatures}): the weight was packed for inference (int8) and the float weight is gone; see PackedWeight");

    public Parameter? Bias { get; }

    /// <summary>The packed inference form the layer multiplies through after <see cref="Module.PackParameter"/> (null while float).</summary>
    public PackedWeight? PackedWeight { get; private set; }

    protected override Tensor ForwardCore(Tensor input) =>
        PackedWeight is { } packed ? Functional.Linear(input, packed, Bias) : Functional.Linear(input, Weight, Bias);

    protected override void OnParameterPacking(string name, Parameter current, PackedWeight weight)
    {
        if (name != "weight") base.OnParameterPacking(name, current, weight);
        PackedWeight = weight;
        _weight = null;
    }

    /// <summary>
    /// activation(x·Wᵀ + b) as one fused op (<see cref="Functional.Linear(Tensor, Tensor, Tensor?, Activation)"/>): the
    /// values of this layer followed by the activation's tensor op, computed while the output is in cache. With hooks
    /// registered on this layer, it runs unfused so that the hooks see the layer's own output.
    /// </summary>
    public Tensor Forward(Tensor input, Activation activation)
    {
        if (activation == Activation.None) return Forward(input);
        if (HasHooks || PackedWeight is not null) return Functional.Activate(Forward(input), activation);
        return Functional.Linear(input, Weight, Bias, activation);
    }

    protected override string ExtraRepr() =>
        $"in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is null ? "False" : "True")}" + (PackedWeight is null ? "" : ", packed");
}
