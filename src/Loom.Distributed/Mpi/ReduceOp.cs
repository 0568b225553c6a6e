namespace Loom.Distributed;

/// <summary>How <see cref="Communicator.AllReduce{T}(Span{T}, ReduceOp)"/> combines the ranks' values.</summary>
public enum ReduceOp
{
    Sum,
    Max,
    Min,
}
