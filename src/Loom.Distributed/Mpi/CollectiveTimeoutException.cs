namespace Loom.Distributed;

/// <summary>
/// A collective did not complete within <see cref="Communicator.Timeout"/>: some rank is hung or far behind. mpirun
/// never notices a hung rank by itself, so this is how a stuck job ends.
/// </summary>
public sealed class CollectiveTimeoutException(string message) : MpiException(message)
{
    internal static string Describe(Communicator communicator, string call) =>
        $"rank {communicator.Rank}: {call} did not complete within {communicator.Timeout.TotalSeconds:0.#} s; another rank is hung, dead or far behind";
}
