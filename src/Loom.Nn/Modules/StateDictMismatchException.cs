namespace Loom.Nn;

/// <summary>Thrown by <see cref="Module.LoadStateDict"/> when keys are missing, unexpected or mis-shaped.</summary>
public sealed class StateDictMismatchException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misShaped)
    : Exception(message)
{
    public IReadOnlyList<string> MissingKeys { get; } = missing;
    public IReadOnlyList<string> UnexpectedKeys { get; } = unexpected;
    public IReadOnlyList<string> MisShapedKeys { get; } = misShaped;
}
