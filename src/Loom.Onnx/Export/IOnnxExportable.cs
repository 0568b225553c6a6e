namespace Loom.Onnx;

/// <summary>
/// A module that writes its own evaluation-mode forward pass as ONNX nodes, for <see cref="OnnxExport"/>: what a
/// model whose forward pass reads its input's values on the CPU (text lengths, padding masks) or builds constants from
/// its sizes (positions, causal masks) implements, since a trace of one run would freeze those into the graph.
/// </summary>
/// <remarks>
/// The exporter still runs the model once on the example input (its layers' traced shapes choose their ONNX form), then
/// calls <see cref="ExportOnnx"/> with the ONNX value of the module's input. The module builds its graph from
/// the context: plain ops, constants, its parameters, and its child modules (which export themselves), so
/// sizes that vary — batch and sequence — are read from the values at run time (<see cref="OnnxExportContext.Dim"/>).
/// </remarks>
public interface IOnnxExportable
{
    /// <summary>Writes the module's forward pass on the ONNX value <paramref name="input"/> and returns the value of its output.</summary>
    string ExportOnnx(OnnxExportContext onnx, string input);
}
