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

    /// <summary>
    /// The group's parameters in runs that share a step number and dtype (all of them, unless parameters joined or
    /// skipped steps), each run one multi-tensor update: the bits of one update per parameter, in one parallel pass.
    /// </summary>
    private protected sealed override void UpdateGroup(ParamGroup group, IReadOnlyList<ParameterUpdate> updates)
    {
        for (int first = 0; first < updates.Count;)
        {
            int end = first + 1;
            while (end < updates.Count && updates[end].State.Step == updates[first].State.Step
                   && updates[end].Parameter.DType == updates[first].Parameter.DType) end++;
            var (parameters, grads, m, v) = (new Tensor[end - first], new Tensor[end - first], new Tensor[end - first], new Tensor[end - first]);
            var vmax = AmsGrad ? new Tensor[end - first] : null;
            for (int i = first; i < end; i++)
            {
                var (p, state) = (updates[i].Parameter, updates[i].State);
                (parameters[i - first], grads[i - first]) = (p, updates[i].Grad);
                m[i - first] = state.Buffer("exp_avg", p);
                v[i - first] = state.Buffer("exp_avg_sq", p);
                if (vmax is not null) vmax[i - first] = state.Buffer("max_exp_avg_sq", p);
            }
            Functional.AdamUpdate(parameters, grads, m, v, vmax, updates[first].State.Step, group.LearningRate, Beta1, Beta2, Eps, group.WeightDecay, Decoupled);
            first = end;
        }
    }

    protected sealed override void Update(ParamGroup group, Parameter parameter, Tensor grad, ParameterState state)
    {
        var m = state.Buffer("exp_avg", parameter);
        var v = state.Buffer("exp_avg_sq", parameter);
        var vmax = AmsGrad ? state.Buffer("max_exp_avg_sq", parameter) : null;
        Functional.AdamUpdate(parameter, grad, m, v, vmax, state.Step, group.LearningRate, Beta1, Beta2, Eps, group.WeightDecay, Decoupled);
    }
}
