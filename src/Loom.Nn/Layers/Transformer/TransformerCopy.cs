namespace Loom.Nn;

/// <summary>The part of a deep copy that a freshly constructed layer lacks: weights, trainability and mode.</summary>
internal static class TransformerCopy
{
    public static void CopyState(Module source, Module target)
    {
        target.LoadStateDict(source.StateDict());
        foreach (var ((_, from), (_, to)) in source.NamedParameters().Zip(target.NamedParameters()))
            to.RequiresGrad = from.RequiresGrad;
        foreach (var ((_, from), (_, to)) in source.NamedModules().Zip(target.NamedModules()))
            to.Train(from.Training);
    }
}
