namespace Loom.Nn;

/// <summary>The cosine similarity of two inputs along <c>dim</c> (<c>torch.nn.CosineSimilarity</c>). Call <c>Forward(x1, x2)</c>.</summary>
/// <remarks>Shapes: x1 and x2 broadcast to [*, D, *]; output that shape without dimension <c>dim</c>.</remarks>
public sealed class CosineSimilarity(int dim = 1, double eps = 1e-8) : Module<(Tensor X1, Tensor X2), Tensor>
{
    public Tensor Forward(Tensor x1, Tensor x2) => Forward((x1, x2));

    protected override Tensor ForwardCore((Tensor X1, Tensor X2) input) => Functional.CosineSimilarity(input.X1, input.X2, dim, eps);

    protected override string ExtraRepr() => $"dim={dim}, eps={eps}";
}
