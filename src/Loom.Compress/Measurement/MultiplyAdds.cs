namespace Loom.Compress;

/// <summary>
/// Multiply-accumulates of one forward, counted from the shapes each convolution and linear layer actually sees (one
/// forward of a sample with hooks), so a structurally pruned model is counted at its new sizes. Other layers (batch
/// norm, activations, pooling) do work linear in their size and are left out, as papers' FLOP counts do; FLOPs are
/// twice the count.
/// </summary>
public static class MultiplyAdds
{
    /// <summary>Multiply-accumulates per sample of <paramref name="model"/> on <paramref name="batch"/> [N, ...] (the total over the batch divided by N).</summary>
    public static long PerSample(Module<Tensor, Tensor> model, Tensor batch)
    {
        if (batch.Shape.Rank == 0 || batch.Shape[0] == 0) throw new ArgumentException("multiply-adds: the batch needs at least one sample");
        long total = 0;
        var handles = new List<HookHandle>();
        foreach (var m in model.Modules())
        {
            if (m is Conv2d conv)
                handles.Add(conv.RegisterForwardHook((_, _, o) =>
                    total += ((Tensor)o).Shape.Numel * (long)(conv.InChannels / conv.Groups) * conv.KernelSize.H * conv.KernelSize.W));
            else if (m is Linear linear)
                handles.Add(linear.RegisterForwardHook((_, _, o) => total += ((Tensor)o).Shape.Numel * (long)linear.InFeatures));
        }
        try
        {
            using var noGrad = new Autograd.NoGrad();
            model.Forward(batch);
        }
        finally
        {
            foreach (var h in handles) h.Remove();
        }
        return total / batch.Shape[0];
    }
}
