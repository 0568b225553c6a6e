namespace Loom.Data;

/// <summary>Applies transforms in order: Compose(a, b).Apply(x) = b.Apply(a.Apply(x)).</summary>
public sealed class Compose : ITransform
{
    private readonly ITransform[] _transforms;

    public Compose(params ITransform[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        for (int i = 0; i < transforms.Length; i++) ArgumentNullException.ThrowIfNull(transforms[i], $"transforms[{i}]");
        _transforms = transforms.ToArray();
    }

    public IReadOnlyList<ITransform> Transforms => _transforms;

    public Tensor Apply(Tensor input)
    {
        foreach (var t in _transforms) input = t.Apply(input);
        return input;
    }
}
