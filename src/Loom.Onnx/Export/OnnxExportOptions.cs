namespace Loom.Onnx;

/// <summary>How <see cref="OnnxExport"/> names and shapes the exported graph.</summary>
public sealed record OnnxExportOptions
{
    public string InputName { get; init; } = "input";

    public string OutputName { get; init; } = "output";

    /// <summary>
    /// Input axes left symbolic, by axis: axis 0 is "batch" unless given otherwise. An output axis is symbolic under
    /// the same name when the traced output has the input's size there (the batch of a classifier, the sequence of a
    /// language model).
    /// </summary>
    public IReadOnlyDictionary<int, string> DynamicAxes { get; init; } = new Dictionary<int, string> { [0] = "batch" };

    /// <summary>The default-domain opset written (17 or newer: LayerNormalization is 17's).</summary>
    public int Opset { get; init; } = 17;
}
