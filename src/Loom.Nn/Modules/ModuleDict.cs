using System.Collections;

namespace Loom.Nn;

/// <summary>Holds child modules by name, in insertion order, like PyTorch's ModuleDict.</summary>
public sealed class ModuleDict<T> : Module, IReadOnlyDictionary<string, T> where T : Module
{
    private readonly Dictionary<string, T> _items = [];
    private readonly List<string> _order = [];

    public void Add(string name, T module)
    {
        RegisterModule(name, module);
        _items.Add(name, module);
        _order.Add(name);
    }

    public T this[string key] => _items.TryGetValue(key, out var m) ? m : throw new KeyNotFoundException($"ModuleDict has no module '{key}' (has: {string.Join(", ", _order)})");

    public IEnumerable<string> Keys => _order;

    public IEnumerable<T> Values => _order.Select(k => _items[k]);

    public int Count => _items.Count;

    public bool ContainsKey(string key) => _items.ContainsKey(key);

    public bool TryGetValue(string key, out T value) => _items.TryGetValue(key, out value!);

    public IEnumerator<KeyValuePair<string, T>> GetEnumerator() => _order.Select(k => new KeyValuePair<string, T>(k, _items[k])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
