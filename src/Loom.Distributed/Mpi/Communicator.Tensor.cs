using Loom.Autograd;

namespace Loom.Distributed;

// y = Σ_ranks x (every rank receives the same sum). Backward: each rank's y feeds that rank's loss, and the job's loss
// is the sum over ranks, so ∂L/∂x_r = Σ_s ∂L_s/∂y_s — the same all-reduce applied to the incoming gradients.
public sealed partial class Communicator
{
    /// <summary>
    /// The element-wise sum of <paramref name="x"/> over every rank, as a new tensor; differentiable (the gradient is
    /// all-reduced the same way), so it can sit inside a model (<see cref="SyncBatchNorm"/>). Every rank must call it.
    /// </summary>
    public Tensor AllReduce(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        Tensor result;
        using (new NoGrad()) result = x.Clone();
        AllReduceInPlace(result);
        return GradMode.ShouldRecord(x) ? new AllReduceBackward(this, x).Attach(result) : result;
    }

    private void AllReduceInPlace(Tensor t)
    {
        switch (t.DType)
        {
            case DType.Float32: AllReduce(t.AsSpan<float>()); break;
            case DType.Float64: AllReduce(t.AsSpan<double>()); break;
            case DType.Int32: AllReduce(t.AsSpan<int>()); break;
            case DType.Int64: AllReduce(t.AsSpan<long>()); break;
            default: throw new NotSupportedException($"all_reduce: dtype {t.DType.Name()} is not supported");
        }
    }

    private sealed class AllReduceBackward(Communicator communicator, Tensor x) : BackwardNode("all_reduce", x)
    {
        protected override Tensor?[] Apply(Tensor gradOutput)
        {
            var g = gradOutput.Clone();
            communicator.AllReduceInPlace(g);
            return [g];
        }
    }
}
