using Loom.Nn;

namespace Loom.Distributed;

/// <summary>
/// Gradients of a few parameters (one dtype) all-reduced together as one flat buffer: one collective per ~megabytes
/// instead of one per tensor, whose latency would dominate for the many small tensors (biases, norms) of a model.
/// </summary>
internal sealed class GradientBucket<T> : IGradientBucket where T : unmanaged
{
    private readonly Parameter[] _parameters;
    private readonly int[] _offsets;
    private readonly T[] _flat;
    private CollectiveRequest? _request;

    public GradientBucket(IReadOnlyList<Parameter> parameters)
    {
        _parameters = [.. parameters];
        _offsets = new int[_parameters.Length];
        int total = 0;
        for (int i = 0; i < _parameters.Length; i++)
        {
            _offsets[i] = total;
            total += _parameters[i].Numel;
        }
        _flat = new T[total];
    }

    public IReadOnlyList<Parameter> Parameters => _parameters;

    public int Ready { get; set; }

    public bool Launched => _request is not null;

    public long Bytes => (long)_flat.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    /// <summary>Copies the gradients into the flat buffer (zeros for a parameter without one) and starts the sum.</summary>
    public void Launch(Communicator communicator)
    {
        for (int i = 0; i < _parameters.Length; i++)
        {
            var target = _flat.AsSpan(_offsets[i], _parameters[i].Numel);
            if (_parameters[i].Grad is { } g) g.Contiguous().AsReadOnlySpan<T>().CopyTo(target);
            else target.Clear();
        }
        _request = communicator.AllReduceAsync<T>(_flat);
    }

    public void Progress() => _request?.Test();

    /// <summary>Waits for the sum and writes sum / worldSize back into every gradient.</summary>
    public void Finish(int worldSize)
    {
        _request!.Wait();
        _request = null;
        Ready = 0;
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            if (p.Grad is not { IsContiguous: true } || p.Grad.DType != p.DType)
                using (Memory.MemoryScope.Persistent()) p.Grad = Tensor.Zeros(p.Shape, p.DType);
            Scale(_flat.AsSpan(_offsets[i], p.Numel), p.Grad!, worldSize);
        }
    }

    private static void Scale(ReadOnlySpan<T> sum, Tensor grad, int worldSize)
    {
        if (typeof(T) == typeof(float))
            System.Numerics.Tensors.TensorPrimitives.Multiply(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(sum), 1f / worldSize, grad.AsSpan<float>());
        else
            System.Numerics.Tensors.TensorPrimitives.Multiply(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(sum), 1.0 / worldSize, grad.AsSpan<double>());
    }
}

internal interface IGradientBucket
{
    IReadOnlyList<Parameter> Parameters { get; }

    int Ready { get; set; }

    bool Launched { get; }

    long Bytes { get; }

    void Launch(Communicator communicator);

    void Progress();

    void Finish(int worldSize);
}
