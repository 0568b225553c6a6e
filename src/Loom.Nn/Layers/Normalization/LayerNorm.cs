namespace Loom.Nn;

/// <summary>Normalises over the last dimensions (<c>normalizedShape</c>), with elementwise affine weight (ones) and bias (zeros).</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    public LayerNorm(int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, bool bias = true, DType dtype = DType.Float32)
    {
        NormalizedShape = (int[])normalizedShape.Clone();
        Eps = eps;
        Weight = RegisterParameter("weight", elementwiseAffine ? new Parameter(Tensor.Ones(new Shape(normalizedShape), dtype)) : null);
        Bias = RegisterParameter("bias", elementwiseAffine && bias ? new Parameter(Tensor.Zeros(new Shape(normalizedShape), dtype)) : null);
    }

    public LayerNorm(int normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, bool bias = true, DType dtype = DType.Float32)
        : this([normalizedShape], eps, elementwiseAffine, bias, dtype) { }

    public int[] NormalizedShape { get; }
    public double Eps { get; }
    public Parameter? Weight { get; }
    public Parameter? Bias { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.LayerNorm(input, NormalizedShape, Weight, Bias, Eps);

    protected override string ExtraRepr() => $"{new Shape(NormalizedShape)}, eps={Eps}";
}
