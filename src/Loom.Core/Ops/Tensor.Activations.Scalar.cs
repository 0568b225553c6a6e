namespace Loom;

// Plumbing of the activations computed element by element in double (Kernels/ScalarActivationKernels.cs): the
// forward through the element-wise driver (any layout, threads), the backward dx = dy·f′(x) from the saved input.
public partial class Tensor
{
    private Tensor ScalarActivation<TAct>(string op, TAct activation) where TAct : struct, IScalarActivation
    {
        var f = new ScalarActivationOperator<TAct>(activation);
        var result = MapFloat(op, f, f);
        return GradMode.ShouldRecord(this) ? new ScalarActivationBackward<TAct>(op, this, activation).Attach(result) : result;
    }

    private sealed class ScalarActivationBackward<TAct> : BackwardNode where TAct : struct, IScalarActivation
    {
        private readonly SavedTensor _x;
        private readonly TAct _activation;

        public ScalarActivationBackward(string op, Tensor x, TAct activation) : base(op, x)
        {
            _x = Save(x);
            _activation = activation;
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _x.Value.Contiguous();
            var g = (gradOutput.DType == x.DType ? gradOutput : gradOutput.To(x.DType)).Contiguous();
            var dx = Empty(x.Shape, x.DType);
            if (x.DType == DType.Float32)
                ScalarActivationKernels.Backward(x.Array<float>(), x.Offset, g.Array<float>(), g.Offset, dx.Array<float>(), x.Numel, _activation);
            else
                ScalarActivationKernels.Backward(x.Array<double>(), x.Offset, g.Array<double>(), g.Offset, dx.Array<double>(), x.Numel, _activation);
            return [dx];
        }
    }
}
