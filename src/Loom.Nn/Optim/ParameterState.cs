namespace Loom.Nn;

/// <summary>An optimiser's state for one parameter: its step count and named buffers (exp_avg, momentum_buffer…).</summary>
public sealed class ParameterState
{
    public long Step { get; set; }

    public Dictionary<string, Tensor> Buffers { get; } = [];

    /// <summary>The buffer <paramref name="name"/>, created (persistently, filled with <paramref name="initial"/>) on first use.</summary>
    public Tensor Buffer(string name, Tensor like, double initial = 0)
    {
        if (!Buffers.TryGetValue(name, out var t))
        {
            using (Memory.MemoryScope.Persistent()) t = Tensor.Full(like.Shape, initial, like.DType);
            Buffers[name] = t;
        }
        return t;
    }
}
