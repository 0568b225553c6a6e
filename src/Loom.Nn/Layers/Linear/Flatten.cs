namespace Loom.Nn;

/// <summary>Flattens dimensions startDim..endDim (default 1..-1, keeping the batch), as <c>torch.nn.Flatten</c>.</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module<Tensor, Tensor>
{
    public int StartDim => startDim;
    public int EndDim => endDim;

    protected override Tensor ForwardCore(Tensor input) => input.Flatten(startDim, endDim);

    protected override string ExtraRepr() => $"start_dim={startDim}, end_dim={endDim}";
}
