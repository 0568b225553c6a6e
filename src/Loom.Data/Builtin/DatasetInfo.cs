namespace Loom.Data;

/// <summary>What a built-in dataset is, where it comes from, and whether this machine has it.</summary>
/// <param name="Name">The registry name ("digits", "fashion-mnist"…).</param>
/// <param name="TrainCount">Samples in the training split.</param>
/// <param name="TestCount">Samples in the test split.</param>
/// <param name="InputShape">Shape of one input, e.g. [1, 28, 28].</param>
/// <param name="ClassNames">Class names; a target is an index into this list.</param>
/// <param name="Source">Where the data comes from (package and path).</param>
/// <param name="Licence">The data's licence.</param>
/// <param name="Location">Where the data is read from on this machine.</param>
/// <param name="IsAvailable">Whether <see cref="BuiltinDatasets.Load"/> would find the data here now.</param>
public sealed record DatasetInfo(
    string Name, string Description, int TrainCount, int TestCount, int[] InputShape, IReadOnlyList<string> ClassNames,
    string Source, string Licence, string Location, bool IsAvailable)
{
    public int Size => TrainCount + TestCount;
}
