namespace Loom.Distributed;

/// <summary>An MPI call returned an error.</summary>
public class MpiException(string message) : Exception(message);
