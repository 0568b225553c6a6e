namespace Loom.Nn.Serialization;

/// <summary>What <see cref="SafeTensors.Load"/> and <see cref="SafeTensors.Read(Stream)"/> return: the tensors and the metadata of one file.</summary>
public sealed class SafeTensorsFile
{
    internal SafeTensorsFile(OrderedDictionary<string, Tensor> tensors, OrderedDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>
    /// Name → tensor in the order of the data in the file (for files written by Loom or by the Python library: by
    /// dtype, widest first, then by name). Each tensor owns its memory; F16 and BF16 data load as Float32.
    /// </summary>
    public OrderedDictionary<string, Tensor> Tensors { get; }

    /// <summary>The free-form <c>"__metadata__"</c> strings, in header order; empty when the file has none.</summary>
    public OrderedDictionary<string, string> Metadata { get; }
}
