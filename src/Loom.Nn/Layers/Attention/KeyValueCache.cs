using Loom.Autograd;
using Loom.Memory;

namespace Loom.Nn;

/// <summary>
/// Keys and values that attention layers have already projected, kept between calls for incremental decoding: each
/// step projects only the new tokens and attends over everything cached, so generating T tokens costs O(T) projections
/// instead of O(T²). One cache serves a whole model: every <see cref="MultiheadAttention"/> it is passed to keeps its
/// own entry (keyed by the layer). Self-attention entries grow by the new positions at each call; a decoder's
/// cross-attention entry holds the projected memory, computed on the first step and reused.
/// </summary>
/// <remarks>
/// Use one cache per batch of sequences and <see cref="Clear"/> it before decoding another. Without autograd the
/// entries live in persistent buffers of doubling capacity (the step's keys are copied in; attention reads a view of
/// the filled part, so no step re-copies the history), which survive the trainer's per-step
/// <see cref="MemoryScope"/>. When gradients are recorded, each step concatenates instead, so that nothing saved for
/// backward is overwritten later.
/// </remarks>
public sealed class KeyValueCache
{
    private readonly Dictionary<MultiheadAttention, Entry> _entries = new(ReferenceEqualityComparer.Instance);

    /// <summary>The number of positions cached by the self-attention layers: the position of the next token.</summary>
    public int SequenceLength => _entries.Values.Where(e => !e.IsFixed).Select(e => e.Length).DefaultIfEmpty(0).Max();

    /// <summary>The number of attention layers holding an entry.</summary>
    public int LayerCount => _entries.Count;

    /// <summary>Forgets every entry (to decode a new batch).</summary>
    public void Clear() => _entries.Clear();

    /// <summary>The cached keys and values of <paramref name="layer"/>, each [B, heads, S, head_dim], or null if it has none.</summary>
    public (Tensor Keys, Tensor Values)? Get(MultiheadAttention layer) =>
        _entries.TryGetValue(layer, out var e) && e.Length > 0 ? e.Current : null;

    /// <summary>
    /// Reorders the batch of every entry: row i becomes the old row <paramref name="rows"/>[i] (Int64 [B′]; rows may
    /// repeat or drop). Beam search calls it after each step, when the surviving hypotheses continue other rows' prefixes.
    /// </summary>
    public void Reorder(Tensor rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Rank != 1 || rows.DType != DType.Int64) throw new ArgumentException($"KeyValueCache.Reorder: rows must be Int64 [B], got {rows.DType.Name()} {rows.Shape}");
        foreach (var entry in _entries.Values) entry.Reorder(rows);
    }

    internal Entry For(MultiheadAttention layer)
    {
        if (!_entries.TryGetValue(layer, out var entry)) _entries[layer] = entry = new Entry();
        return entry;
    }

    /// <summary>
    /// One layer's keys and values, [B, H, capacity, D] of which the first <see cref="Length"/> positions are filled.
    /// A model with attention of its own (the GPT's blocks) keeps one per layer directly, so every decoder shares this
    /// one cache implementation.
    /// </summary>
    public sealed class Entry
    {
        private const int MinCapacity = 16;
        private Tensor? _keys;
        private Tensor? _values;

        public int Length { get; private set; }

        /// <summary>A cross-attention entry: set once (<see cref="SetFixed"/>) and reused.</summary>
        public bool IsFixed { get; private set; }

        public (Tensor Keys, Tensor Values) Current => (_keys!.Narrow(2, 0, Length), _values!.Narrow(2, 0, Length));

        /// <summary>Appends keys [B, H, n, D] and values [B, H, n, Dv]; returns all cached so far.</summary>
        public (Tensor Keys, Tensor Values) Append(Tensor keys, Tensor values)
        {
            if (IsFixed) throw new InvalidOperationException("KeyValueCache: this layer's entry holds fixed cross-attention keys and cannot grow");
            Check(keys, values);
            int n = keys.Shape[2];
            if (GradMode.ShouldRecord(keys, values))
            {
                // Keep the graph: a new tensor per step, so nothing a backward node saved is ever written again.
                _keys = Length == 0 ? keys : Tensor.Cat([_keys!.Narrow(2, 0, Length), keys], 2);
                _values = Length == 0 ? values : Tensor.Cat([_values!.Narrow(2, 0, Length), values], 2);
            }
            else
            {
                using (new NoGrad())
                {
                    if (_keys is null || Length + n > _keys.Shape[2] || _keys.RequiresGrad)
                        Grow(keys, values, Math.Max(Length + n, Math.Max(2 * (_keys?.Shape[2] ?? 0), MinCapacity)));
                    _keys!.Narrow(2, Length, n).CopyFrom(keys);
                    _values!.Narrow(2, Length, n).CopyFrom(values);
                }
            }
            Length += n;
            return Current;
        }

        /// <summary>Stores the projected memory of a cross-attention layer, once.</summary>
        public (Tensor Keys, Tensor Values) SetFixed(Tensor keys, Tensor values)
        {
            if (Length > 0) throw new InvalidOperationException("KeyValueCache: this layer's entry is already filled");
            if (GradMode.ShouldRecord(keys, values)) (_keys, _values) = (keys, values);
            else
            {
                using (MemoryScope.Persistent())
                using (new NoGrad())
                    (_keys, _values) = (keys.Clone(), values.Clone());
            }
            IsFixed = true;
            Length = keys.Shape[2];
            return Current;
        }

        /// <summary>Row i becomes the old row <paramref name="rows"/>[i] (see <see cref="KeyValueCache.Reorder"/>).</summary>
        public void Reorder(Tensor rows)
        {
            if (Length == 0) return;
            using (new NoGrad())
            {
                var (keys, values) = Current;
                keys = keys.IndexSelect(0, rows);
                values = values.IndexSelect(0, rows);
                if (keys.Shape[0] == _keys!.Shape[0] && !_keys.RequiresGrad)
                {
                    // Gathered into a temporary, then copied back: a beam keeps its batch size, so the buffers stay and
                    // nothing is allocated outside the step's memory scope.
                    _keys.Narrow(2, 0, Length).CopyFrom(keys);
                    _values!.Narrow(2, 0, Length).CopyFrom(values);
                    return;
                }
                int capacity = IsFixed ? Length : Math.Max(Length, _keys.Shape[2]);
                using (MemoryScope.Persistent())
                {
                    _keys = Tensor.Empty(new Shape(keys.Shape[0], keys.Shape[1], capacity, keys.Shape[3]), keys.DType);
                    _values = Tensor.Empty(new Shape(values.Shape[0], values.Shape[1], capacity, values.Shape[3]), values.DType);
                }
                _keys.Narrow(2, 0, Length).CopyFrom(keys);
                _values.Narrow(2, 0, Length).CopyFrom(values);
            }
        }

        private void Check(Tensor keys, Tensor values)
        {
            if (keys.Rank != 4 || values.Rank != 4 || keys.Shape[0] != values.Shape[0] || keys.Shape[1] != values.Shape[1] || keys.Shape[2] != values.Shape[2])
                throw new ArgumentException($"KeyValueCache: keys {keys.Shape} and values {values.Shape} must be [B, heads, n, head_dim] with the same B, heads and n");
            if (_keys is null || Length == 0) return;
            if (keys.Shape[0] != _keys.Shape[0] || keys.Shape[1] != _keys.Shape[1] || keys.Shape[3] != _keys.Shape[3]
                || values.Shape[3] != _values!.Shape[3] || keys.DType != _keys.DType)
                throw new ArgumentException(
                    $"KeyValueCache: the layer's cached keys are {_keys.Narrow(2, 0, Length).Shape} ({_keys.DType.Name()}) but the new keys are {keys.Shape} ({keys.DType.Name()}); " +
                    "batch, heads and head size must match (Clear() the cache before decoding another batch)");
        }

        private void Grow(Tensor keys, Tensor values, int capacity)
        {
            Tensor newKeys, newValues;
            using (MemoryScope.Persistent())
            {
                newKeys = Tensor.Empty(new Shape(keys.Shape[0], keys.Shape[1], capacity, keys.Shape[3]), keys.DType);
                newValues = Tensor.Empty(new Shape(values.Shape[0], values.Shape[1], capacity, values.Shape[3]), values.DType);
            }
            if (Length > 0)
            {
                newKeys.Narrow(2, 0, Length).CopyFrom(_keys!.Narrow(2, 0, Length));
                newValues.Narrow(2, 0, Length).CopyFrom(_values!.Narrow(2, 0, Length));
            }
            (_keys, _values) = (newKeys, newValues);
        }
    }
}
