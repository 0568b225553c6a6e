namespace Loom.Distributed;

/// <summary>
/// A collective did not complete within <see cref="Communicator.Timeout"/>: some rank is hung or far behind. mpirun
/// never notices a hung rank by itself, so this is how a stuck job ends.
/// </summary>
public sealed class CollectiveTimeoutException(string message) : MpiException(message);
