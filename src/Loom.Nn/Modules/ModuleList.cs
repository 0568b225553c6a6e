using System.Collections;
using System.Globalization;

namespace Loom.Nn;

/// <summary>Holds child modules in a list (named "0", "1", …) without defining a forward, like PyTorch's ModuleList.</summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> _items = [];

    public ModuleList(IEnumerable<T>? items = null)
    {
        if (items is not null) foreach (var m in items) Add(m);
    }

    public void Add(T module)
    {
        RegisterModule(_items.Count.ToString(CultureInfo.InvariantCulture), module);
        _items.Add(module);
    }

    public T this[int index] => _items[index];

    public int Count => _items.Count;

    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
