namespace Loom.Nn;

/// <summary>
/// Adam (Kingma &amp; Ba) with optional AMSGrad and coupled L2 weight decay, as <c>torch.optim.Adam</c>.
/// For decoupled weight decay use <see cref="AdamW"/>.
/// </summary>
public class Adam(IEnumerable<ParamGroup> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0,
    bool amsgrad = false) : Optimizer(groups, learningRate, weightDecay)
{
    public Adam(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
        : this(OneGroup(parameters), learningRate, beta1, beta2, eps, weightDecay, amsgrad) { }

    public double Beta1 { get; } = HyperParameter.DecayRate(beta1, nameof(beta1));
    public double Beta2 { get; } = HyperParameter.DecayRate(beta2, nameof(beta2));
    public double Eps { get; } = HyperParameter.NonNegative(eps, nameof(eps), "eps");
    public bool AmsGrad { get; } = amsgrad;

    /// <summary>True for AdamW's decoupled weight decay.</summary>
    protected virtual bool Decoupled => false;

    protected sealed override void Update(ParamGroup group, Parameter parameter, Tensor grad, ParameterState state)
    {
        var m = state.Buffer("exp_avg", parameter);
        var v = state.Buffer("exp_avg_sq", parameter);
        var vmax = AmsGrad ? state.Buffer("max_exp_avg_sq", parameter) : null;
        Functional.AdamUpdate(parameter, grad, m, v, vmax, state.Step, group.LearningRate, Beta1, Beta2, Eps, group.WeightDecay, Decoupled);
    }
}
