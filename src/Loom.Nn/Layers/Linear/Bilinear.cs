namespace Loom.Nn;

/// <summary>
/// y_k = x1ᵀ·W_k·x2 + b_k, as <c>torch.nn.Bilinear</c>. Weight [out, in1, in2], bias [out], both uniform in ±1/√in1.
/// </summary>
/// <remarks>Shapes: x1 [N, in1], x2 [N, in2] → [N, out].</remarks>
public sealed class Bilinear : Module<(Tensor X1, Tensor X2), Tensor>
{
    public Bilinear(int in1Features, int in2Features, int outFeatures, bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
    {
        (In1, In2, Out) = (in1Features, in2Features, outFeatures);
        double bound = 1 / Math.Sqrt(in1Features);
        Weight = RegisterParameter("weight", new Parameter(Tensor.Uniform(new Shape(outFeatures, in1Features, in2Features), -bound, bound, generator, dtype)))!;
        Bias = RegisterParameter("bias", bias ? new Parameter(Tensor.Uniform(new Shape(outFeatures), -bound, bound, generator, dtype)) : null);
    }

    public int In1 { get; }
    public int In2 { get; }
    public int Out { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public Tensor Forward(Tensor x1, Tensor x2) => Forward((x1, x2));

    protected override Tensor ForwardCore((Tensor X1, Tensor X2) input)
    {
        var (x1, x2) = input;
        if (x1.Rank != 2 || x2.Rank != 2 || x1.Shape[0] != x2.Shape[0] || x1.Shape[1] != In1 || x2.Shape[1] != In2)
            throw new ArgumentException($"bilinear: inputs {x1.Shape} and {x2.Shape} do not match [N, {In1}] and [N, {In2}]");
        int n = x1.Shape[0];
        // (x1 · W viewed as [in1, out·in2]) gives [N, out, in2]; a product with x2 summed over in2 finishes the form.
        var w = Weight.Permute(1, 0, 2).Reshape(In1, Out * In2);
        var y = x1.Matmul(w).Reshape(n, Out, In2).Mul(x2.Unsqueeze(1)).Sum(2);
        return Bias is null ? y : y.Add(Bias);
    }

    protected override string ExtraRepr() => $"in1_features={In1}, in2_features={In2}, out_features={Out}, bias={(Bias is null ? "False" : "True")}";
}
