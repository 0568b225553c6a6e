namespace Loom;

/// <summary>Padding named by its effect, as PyTorch's padding='valid' and padding='same' (stride 1 only).</summary>
public enum ConvPadding
{
    /// <summary>No padding.</summary>
    Valid,

    /// <summary>The output has the input's size: d·(k − 1) zeros per dimension, the odd one after (PyTorch's split).</summary>
    Same,
}
