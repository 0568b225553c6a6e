namespace Loom;

// Cosine similarity along an axis, composed from ops whose gradients PyTorch's match (Norm's is 0 at a zero vector):
//   cos(x1, x2) = Σ x1·x2 / (max(‖x1‖, ε) · max(‖x2‖, ε))
// Each norm is clamped on its own, as PyTorch does, so a zero vector gives 0, not NaN.
public static partial class Functional
{
    /// <summary>
    /// The cosine of the angle between <paramref name="x1"/> and <paramref name="x2"/> along <paramref name="axis"/>
    /// (like <c>torch.nn.functional.cosine_similarity</c>); the inputs broadcast.
    /// </summary>
    /// <remarks>Shapes: x1 and x2 broadcast to [*, D, *]; output that shape without the axis.</remarks>
    public static Tensor CosineSimilarity(Tensor x1, Tensor x2, int axis = 1, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(x1);
        ArgumentNullException.ThrowIfNull(x2);
        const string op = "cosine_similarity";
        var shape = Shape.Broadcast(x1.Shape, x2.Shape, op);
        if (!(eps >= 0)) throw new ArgumentException($"{op}: eps must be non-negative, got {eps}");
        int a = shape.NormalizeAxis(axis, op);
        var (u, v) = (x1.BroadcastTo(shape), x2.BroadcastTo(shape));
        return u.Mul(v).Sum(a).Div(u.Norm(2, a).Clamp(min: eps).Mul(v.Norm(2, a).Clamp(min: eps)));
    }
}
