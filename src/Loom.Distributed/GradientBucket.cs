using System.Numerics.Tensors;

namespace Loom.Distributed;

/// <summary>
/// Gradients of a few parameters (one dtype) all-reduced together as one flat buffer: one collective per ~megabytes
/// instead of one per tensor, whose latency would dominate for the many small tensors (biases, norms) of a model.
/// </summary>
/// <remarks>
/// <para>After the first all-reduce each parameter's <c>Grad</c> is a view into the flat buffer (PyTorch's
/// <c>gradient_as_bucket_view</c>): backward accumulates straight into the buffer and the all-reduce runs on it in
/// place, so a step pays no copy into the bucket and none back. A copy into the buffer costs as much memory traffic as
/// the all-reduce's own reduction. A gradient that is not the view (set to null by <c>ZeroGrad()</c>, or replaced) is
/// copied in as before, and the view put back.</para>
/// <para>Each rank divides its own gradient by the number of ranks before the sum (PyTorch's
/// <c>gradient_predivide_factor</c>), as each gradient becomes ready during backward, while it is still in cache: a
/// division pass over the summed bucket afterwards re-read it from memory and cost a quarter of a 25 MB all-reduce on
/// the critical path. Dividing by a power of two is exact, so 2 or 4 ranks sum exactly what dividing afterwards gives.</para>
/// </remarks>
internal sealed class GradientBucket<T> : IGradientBucket where T : unmanaged
{
    private readonly Parameter[] _parameters;
    private readonly int[] _offsets;
    private readonly T[] _flat;
    private readonly Tensor[] _views;
    private readonly bool[] _divided; // this step's gradient of parameter i is already divided by the number of ranks
    private CommunicationThread.Work? _inFlight;

    public GradientBucket(IReadOnlyList<Parameter> parameters)
    {
        _parameters = [.. parameters];
        _offsets = new int[_parameters.Length];
        _divided = new bool[_parameters.Length];
        int total = 0;
        for (int i = 0; i < _parameters.Length; i++)
        {
            _offsets[i] = total;
            total += _parameters[i].Numel;
        }
        _flat = new T[total];
        // Outside any step's memory scope: the views live as long as the bucket.
        using (Memory.MemoryScope.Persistent())
        {
            var flat = Tensor.Wrap(_flat);
            _views = [.. _parameters.Select((p, i) => flat.Narrow(0, _offsets[i], p.Numel).Reshape(p.Shape.ToArray()))];
        }
    }

    public IReadOnlyList<Parameter> Parameters => _parameters;

    public int Ready { get; private set; }

    public long Bytes => (long)_flat.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    /// <summary>
    /// Backward has finished parameter <paramref name="index"/>'s gradient: divides it now if it is the bucket's view
    /// (a gradient of the caller's own is copied in and divided at launch, never changed in place).
    /// </summary>
    public void GradientReady(int index, int worldSize)
    {
        if (_divided[index])
            throw new InvalidOperationException(
                $"DistributedDataParallel: the gradient of a parameter of shape {_parameters[index].Shape} became ready twice before SynchronizeGradients; " +
                "run one backward per synchronisation, with RequireGradientSync false on the others (gradient accumulation)");
        Ready++;
        if (!ReferenceEquals(_parameters[index].Grad, _views[index])) return;
        Divide(_flat.AsSpan(_offsets[index], _parameters[index].Numel), worldSize);
        _divided[index] = true;
    }

    /// <summary>Counts every parameter ready (<see cref="DistributedDataParallel.SynchronizeGradients"/> launches what is left).</summary>
    public void MarkAllReady() => Ready = _parameters.Length;

    /// <summary>
    /// Gathers the gradients that are not already views of the buffer (zeros for a parameter without one), divides
    /// what backward did not, then sums the buffer over ranks: on the communication thread when
    /// <paramref name="inBackground"/> (the caller goes on computing), else here and now.
    /// </summary>
    public void Launch(Communicator communicator, bool inBackground)
    {
        for (int i = 0; i < _parameters.Length; i++)
        {
            var target = _flat.AsSpan(_offsets[i], _parameters[i].Numel);
            var grad = _parameters[i].Grad;
            if (!ReferenceEquals(grad, _views[i]))
            {
                if (grad is not null) grad.Contiguous().AsReadOnlySpan<T>().CopyTo(target);
                else target.Clear();
                _divided[i] = false;
            }
            if (!_divided[i]) Divide(target, communicator.Size);
        }
        if (inBackground) _inFlight = communicator.AllReduceInBackground(_flat);
        else communicator.AllReduce<T>(_flat);
    }

    /// <summary>Waits for the average and makes every gradient its view.</summary>
    public void Finish()
    {
        _inFlight?.Wait();
        (_inFlight, Ready) = (null, 0);
        Array.Clear(_divided);
        for (int i = 0; i < _parameters.Length; i++) _parameters[i].Grad = _views[i];
    }

    private static void Divide(Span<T> gradient, int worldSize)
    {
        if (worldSize == 1) return;
        if (typeof(T) == typeof(float))
        {
            var span = MemoryMarshal.Cast<T, float>(gradient);
            TensorPrimitives.Multiply(span, 1f / worldSize, span);
        }
        else
        {
            var span = MemoryMarshal.Cast<T, double>(gradient);
            TensorPrimitives.Multiply(span, 1.0 / worldSize, span);
        }
    }
}

internal interface IGradientBucket
{
    IReadOnlyList<Parameter> Parameters { get; }

    int Ready { get; }

    long Bytes { get; }

    void GradientReady(int index, int worldSize);

    void MarkAllReady();

    void Launch(Communicator communicator, bool inBackground);

    void Finish();
}
