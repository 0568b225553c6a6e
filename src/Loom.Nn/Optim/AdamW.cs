namespace Loom.Nn;

/// <summary>Adam with decoupled weight decay (Loshchilov &amp; Hutter), as <c>torch.optim.AdamW</c>; default weight decay 0.01.</summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01, bool amsgrad = false)
        : base(parameters, learningRate, beta1, beta2, eps, weightDecay, amsgrad) { }

    public AdamW(IEnumerable<ParamGroup> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01, bool amsgrad = false)
        : base(groups, learningRate, beta1, beta2, eps, weightDecay, amsgrad) { }

    protected override bool Decoupled => true;
}
