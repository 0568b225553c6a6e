namespace Loom.Onnx;

/// <summary>
/// An ONNX file that Loom cannot read or run (malformed, truncated, hostile, or using an op Loom lacks), or a model that
/// cannot be exported. The message is one line that names the file, node, op or module at fault.
/// </summary>
public sealed class OnnxException : Exception
{
    public OnnxException(string message) : base(message) { }

    public OnnxException(string message, Exception inner) : base(message, inner) { }
}
