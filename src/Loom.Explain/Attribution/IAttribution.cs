namespace Loom.Explain;

/// <summary>
/// A method that gives every input element a share of the model's output for one class: Captum's <c>Attribution</c>.
/// </summary>
public interface IAttribution
{
    /// <summary>
    /// Attributions of the output selected by <paramref name="targets"/> to each element of <paramref name="inputs"/>.
    /// </summary>
    /// <param name="inputs">[N, …] samples, float32 or float64.</param>
    /// <param name="targets">Int64 [N]: the output column (class) to explain per sample; null when the model's output is one value per sample ([N] or [N, 1]).</param>
    /// <returns>A tensor of the inputs' shape and dtype.</returns>
    Tensor Attribute(Tensor inputs, Tensor? targets = null);
}
