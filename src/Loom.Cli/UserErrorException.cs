namespace Loom.Cli;

/// <summary>A mistake in the user's request (bad option value, missing file): printed as one line, exit code 1.</summary>
public sealed class UserErrorException(string message) : Exception(message);
