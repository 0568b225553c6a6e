namespace Loom.Nn.Serialization;

/// <summary>
/// A safetensors file (or stream) that breaks the format: a bad header length, a header that is not the expected JSON,
/// an unknown dtype, offsets that do not tile the data exactly, a truncated file… The message names the file when it is
/// known, the tensor when one is at fault, and what is wrong.
/// </summary>
/// <remarks>
/// It derives from <see cref="IOException"/> because <see cref="InvalidDataException"/> is sealed: one
/// <c>catch (IOException)</c> around a checkpoint load covers both a failing disk and a corrupt file.
/// </remarks>
public sealed class SafeTensorsFormatException : IOException
{
    public SafeTensorsFormatException(string? fileName, string? tensorName, string problem, Exception? innerException = null)
        : base(Compose(fileName, tensorName, problem), innerException)
    {
        FileName = fileName;
        TensorName = tensorName;
    }

    /// <summary>The file being read, or null when reading a stream.</summary>
    public string? FileName { get; }

    /// <summary>The tensor whose entry or data is wrong, or null when the fault is in the file as a whole.</summary>
    public string? TensorName { get; }

    private static string Compose(string? fileName, string? tensorName, string problem)
    {
        var where = fileName is null ? "safetensors stream" : $"safetensors file '{fileName}'";
        return tensorName is null ? $"{where}: {problem}" : $"{where}: tensor '{tensorName}': {problem}";
    }
}
