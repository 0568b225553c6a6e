namespace Loom.Train.Tests.Training;

/// <summary>
/// Training draws dropout masks from <see cref="Loom.Random.Generator.Default"/>, which the Trainer seeds and
/// checkpoints: tests that train must not run alongside each other, or their draws would interleave.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalStateCollection
{
    public const string Name = "Default generator";
}
