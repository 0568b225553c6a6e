namespace Loom.Explain;

/// <summary>
/// Saliency (Simonyan et al. 2014), as Captum's <c>Saliency</c>: |∂f_t(x)/∂x|, the absolute gradient of the explained
/// output with respect to each input element (or the signed gradient with <paramref name="absolute"/> false).
/// </summary>
/// <param name="batchSize">Rows per forward and backward pass.</param>
public sealed class Saliency(Module<Tensor, Tensor> model, bool absolute = true, int batchSize = 256) : IAttribution
{
    public Tensor Attribute(Tensor inputs, Tensor? targets = null)
    {
        ModelOutputs.Check(model, inputs, targets);
        var (gradients, _) = ModelOutputs.Gradients(model, inputs, targets, batchSize);
        return absolute ? gradients.Abs() : gradients;
    }
}
