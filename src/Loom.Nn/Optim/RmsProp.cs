namespace Loom.Nn;

/// <summary>RMSprop with optional momentum and centring, as <c>torch.optim.RMSprop</c>.</summary>
public sealed class RmsProp : Optimizer
{
    public RmsProp(IEnumerable<Parameter> parameters, double learningRate = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false)
        : this(OneGroup(parameters), learningRate, alpha, eps, weightDecay, momentum, centered) { }

    public RmsProp(IEnumerable<ParamGroup> groups, double learningRate = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false)
        : base(groups, learningRate, weightDecay)
    {
        if (!(alpha >= 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be ≥ 0");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be ≥ 0");
        if (!(momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be ≥ 0");
        (Alpha, Eps, Momentum, Centered) = (alpha, eps, momentum, centered);
    }

    public double Alpha { get; }
    public double Eps { get; }
    public double Momentum { get; }
    public bool Centered { get; }

    protected override void Update(ParamGroup group, Parameter parameter, Tensor grad, ParameterState state)
    {
        var sq = state.Buffer("square_avg", parameter);
        var ga = Centered ? state.Buffer("grad_avg", parameter) : null;
        var buf = Momentum > 0 ? state.Buffer("momentum_buffer", parameter) : null;
        Functional.RmsPropUpdate(parameter, grad, sq, ga, buf, group.LearningRate, Alpha, Eps, group.WeightDecay, Momentum);
    }
}
