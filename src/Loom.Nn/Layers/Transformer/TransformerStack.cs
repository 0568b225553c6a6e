namespace Loom.Nn;

/// <summary>The layer list of <see cref="TransformerEncoder"/> and <see cref="TransformerDecoder"/>.</summary>
internal static class TransformerStack
{
    /// <summary>The layers <paramref name="layerFactory"/> makes for indices 0…numLayers−1; errors name <paramref name="stack"/>.</summary>
    public static ModuleList<TLayer> Layers<TLayer>(string stack, Func<int, TLayer> layerFactory, int numLayers) where TLayer : Module
    {
        ArgumentNullException.ThrowIfNull(layerFactory);
        if (numLayers <= 0) throw new ArgumentException($"{stack}: num_layers must be positive, got {numLayers}");
        return new ModuleList<TLayer>(Enumerable.Range(0, numLayers).Select(layerFactory));
    }
}
