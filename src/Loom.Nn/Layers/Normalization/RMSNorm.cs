namespace Loom.Nn;

/// <summary>x / √(mean(x²) + ε) · weight over the last dimensions, as <c>torch.nn.RMSNorm</c> (ε defaults to the dtype's machine epsilon).</summary>
public sealed class RMSNorm : Module<Tensor, Tensor>
{
    public RMSNorm(int[] normalizedShape, double? eps = null, bool elementwiseAffine = true, DType dtype = DType.Float32)
    {
        NormalizedShape = (int[])normalizedShape.Clone();
        Eps = eps;
        Weight = RegisterParameter("weight", elementwiseAffine ? new Parameter(Tensor.Ones(new Shape(normalizedShape), dtype)) : null);
    }

    public RMSNorm(int normalizedShape, double? eps = null, bool elementwiseAffine = true, DType dtype = DType.Float32)
        : this([normalizedShape], eps, elementwiseAffine, dtype) { }

    public int[] NormalizedShape { get; }
    public double? Eps { get; }
    public Parameter? Weight { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.RmsNorm(input, NormalizedShape, Weight, Eps);

    protected override string ExtraRepr() => $"{new Shape(NormalizedShape)}, eps={Eps?.ToString() ?? "None"}";
}
