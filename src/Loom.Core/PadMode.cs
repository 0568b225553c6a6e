namespace Loom;

/// <summary>How <see cref="Functional.Pad"/> fills the border (PyTorch's <c>mode</c>).</summary>
public enum PadMode
{
    /// <summary>A constant value; negative padding crops.</summary>
    Constant,

    /// <summary>The mirror image without repeating the edge: [a b c] padded by 2 on the left gives [c b a b c].</summary>
    Reflect,

    /// <summary>The edge value repeated: [a b c] gives [a a a b c].</summary>
    Replicate,

    /// <summary>Wrapped around: [a b c] gives [b c a b c].</summary>
    Circular,
}
