namespace Loom.Explain;

/// <summary>Gradient × input (Shrikumar et al. 2016), as Captum's <c>InputXGradient</c>: x ⊙ ∂f_t(x)/∂x.</summary>
/// <param name="batchSize">Rows per forward and backward pass.</param>
public sealed class InputXGradient(Module<Tensor, Tensor> model, int batchSize = 256) : IAttribution
{
    public Tensor Attribute(Tensor inputs, Tensor? targets = null)
    {
        ModelOutputs.Check(model, inputs, targets);
        var (gradients, _) = ModelOutputs.Gradients(model, inputs, targets, batchSize);
        return inputs.Detach().Mul(gradients);
    }
}
