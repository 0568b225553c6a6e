namespace Loom.Data;

/// <summary>
/// Collate functions turn the samples of one batch into a <see cref="Batch"/>. The default stacks per-sample tensors
/// along a new first dimension into one contiguous tensor per field: B inputs of [C, H, W] become [B, C, H, W], B
/// scalar targets become [B].
/// </summary>
public static class Collate
{
    /// <summary>The default collate: stacks inputs and targets.</summary>
    public static Batch Samples(IReadOnlyList<Sample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var inputs = new Tensor[samples.Count];
        var targets = new Tensor[samples.Count];
        for (int i = 0; i < inputs.Length; i++) (inputs[i], targets[i]) = (samples[i].Input, samples[i].Target);
        return new Batch(Stack(inputs, "collate inputs"), Stack(targets, "collate targets"));
    }

    /// <summary>
    /// Stacks tensors of one shape and dtype along a new first dimension into a new contiguous tensor. Inputs may be
    /// strided views; they are copied, never aliased.
    /// </summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, string op = "stack")
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException($"{op}: no tensors to stack");
        var first = tensors[0];
        for (int i = 1; i < tensors.Count; i++)
        {
            if (tensors[i].Shape != first.Shape)
                throw new ArgumentException($"{op}: sample {i} has shape {tensors[i].Shape} but sample 0 has shape {first.Shape}");
            if (tensors[i].DType != first.DType)
                throw new ArgumentException($"{op}: sample {i} has dtype {tensors[i].DType.Name()} but sample 0 has dtype {first.DType.Name()}");
        }
        var result = Tensor.Zeros(new Shape([tensors.Count, .. first.Shape.Dims]), first.DType);
        switch (first.DType)
        {
            case DType.Float32: CopyAll<float>(tensors, result); break;
            case DType.Float64: CopyAll<double>(tensors, result); break;
            case DType.Int32: CopyAll<int>(tensors, result); break;
            case DType.Int64: CopyAll<long>(tensors, result); break;
            case DType.UInt8: CopyAll<byte>(tensors, result); break;
            case DType.Int8: CopyAll<sbyte>(tensors, result); break;
            case DType.Bool: CopyAll<bool>(tensors, result); break;
            default: throw new NotSupportedException($"{op}: dtype {first.DType.Name()} is not supported");
        }
        return result;
    }

    private static void CopyAll<T>(IReadOnlyList<Tensor> tensors, Tensor result) where T : unmanaged
    {
        var dst = result.AsSpan<T>();
        int size = tensors[0].Numel;
        for (int i = 0; i < tensors.Count; i++)
            tensors[i].Contiguous().AsReadOnlySpan<T>().CopyTo(dst.Slice(i * size, size));
    }
}
