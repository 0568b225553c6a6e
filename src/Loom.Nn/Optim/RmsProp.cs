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
        if (parameter.DType == DType.Float32)
            OptimizerKernels.RmsProp(parameter.AsSpan<float>(), grad.AsReadOnlySpan<float>(), sq.AsSpan<float>(), ga is null ? default : ga.AsSpan<float>(), buf is null ? default : buf.AsSpan<float>(),
                (float)group.LearningRate, (float)Alpha, (float)Eps, (float)group.WeightDecay, (float)Momentum, Centered);
        else
            OptimizerKernels.RmsProp(parameter.AsSpan<double>(), grad.AsReadOnlySpan<double>(), sq.AsSpan<double>(), ga is null ? default : ga.AsSpan<double>(), buf is null ? default : buf.AsSpan<double>(),
                group.LearningRate, Alpha, Eps, group.WeightDecay, Momentum, Centered);
    }
}
