namespace Loom.Autograd;

/// <summary>
/// A scope in which ops record no autograd graph, as PyTorch's <c>torch.no_grad()</c>:
/// <c>using (new NoGrad()) { … }</c>. Use it for evaluation and for optimiser updates.
/// </summary>
public readonly struct NoGrad : IDisposable
{
    private readonly bool _active;

    public NoGrad()
    {
        _active = true;
        GradMode.Disable();
    }

    public void Dispose()
    {
        if (_active) GradMode.Restore();
    }
}
