namespace Loom;

/// <summary>
/// A weight matrix W [out, in] held in a form for inference other than a float tensor — Loom.Compress's int8 weights
/// with per-channel scales — that multiplies without a float copy of W. A layer whose weight was replaced in place by
/// one (<c>Module.PackParameter</c>) hands it to <see cref="Functional.Linear(Tensor, PackedWeight, Tensor)"/> and
/// <see cref="Functional.RecurrentLayer(RecurrentCell, Tensor, PackedWeight, PackedWeight, Tensor, Tensor, Tensor, Tensor, bool, bool, int[])"/>,
/// so the model keeps its structure and parents keep their typed references to the layer (PyTorch swaps modules
/// instead, which a parent holding its child in a typed field cannot follow).
/// </summary>
/// <remarks>Inference only: products through a packed weight record no gradient.</remarks>
public abstract class PackedWeight
{
    protected PackedWeight(int outFeatures, int inFeatures)
    {
        if (outFeatures <= 0 || inFeatures <= 0)
            throw new ArgumentException($"packed weight: sizes must be positive, got [{outFeatures}, {inFeatures}]");
        (OutFeatures, InFeatures) = (outFeatures, inFeatures);
    }

    public int OutFeatures { get; }
    public int InFeatures { get; }

    /// <summary>
    /// The tensors a checkpoint stores for this weight, each under the replaced parameter's name plus its suffix
    /// (<c>""</c> for the values themselves, e.g. <c>"_scale"</c>). Loading a checkpoint writes into them in place.
    /// </summary>
    public abstract IReadOnlyList<(string Suffix, Tensor Tensor)> State { get; }

    /// <summary>
    /// y [rows, out] = x [rows, in] · Wᵀ + bias, float32, row-major and contiguous; <paramref name="bias"/> is empty
    /// or [out].
    /// </summary>
    public abstract void Multiply(ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> bias, Span<float> y);

    /// <summary>Output rows [first, first + count) of W: one part of a stacked projection (the keys and values of in_proj).</summary>
    public abstract PackedWeight Narrow(int first, int count);

    /// <summary>
    /// Checks the stored tensors, e.g. after a checkpoint was loaded into <see cref="State"/>; a damaged value is an
    /// <see cref="InvalidDataException"/> naming the tensor.
    /// </summary>
    public abstract void Validate();

    /// <summary>Bytes of <see cref="State"/> as a checkpoint stores it.</summary>
    public long SizeInBytes => State.Sum(s => (long)s.Tensor.Numel * s.Tensor.DType.SizeInBytes());

    /// <summary>Checks a <see cref="Narrow"/> range.</summary>
    protected void CheckRows(int first, int count)
    {
        if (first < 0 || count <= 0 || first + count > OutFeatures)
            throw new ArgumentOutOfRangeException(nameof(first), $"packed weight: rows [{first}, {first + count}) are outside [0, {OutFeatures})");
    }
}
