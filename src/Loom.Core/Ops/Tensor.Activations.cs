namespace Loom;

// Activations, element-wise (floats). Backward kernels are fused (one pass over dy and the saved tensor).
//   relu:        y = max(x, 0)                      dx = dy where y > 0, else 0   (0 at x = 0: see ReluBackward)
//   leaky_relu:  y = x if x > 0 else slope·x        dx = dy if x > 0 else slope·dy
//   gelu:        y = x·Φ(x) = ½x(1 + erf(x/√2))     dx = dy·(Φ(x) + x·φ(x))
//   gelu tanh:   y = ½x(1 + tanh(√(2/π)(x + 0.044715x³)))   dx = dy·d/dx of that
//   silu:        y = x·σ(x)                         dx = dy·σ(x)(1 + x(1 − σ(x)))
//   sigmoid:     y = 1/(1 + e⁻ˣ)                    dx = dy·y(1 − y)      (from the saved output)
//   tanh:        y = tanh x                         dx = dy·(1 − y²)      (from the saved output)
//   softplus:    y = log(1 + e^(βx))/β, or x where βx > threshold     dx = dy·σ(βx), or dy
public partial class Tensor
{
    /// <summary>max(x, 0); NaN stays NaN. Integer tensors stay integer, as in PyTorch.</summary>
    public Tensor Relu()
    {
        if (DType is DType.Int32 or DType.Int64 or DType.UInt8 or DType.Int8) return Maximum(Scalar(0, DType));
        var result = MapFloat("relu",
            new ScalarRightOperator<float, MaximumOperator<float>>(0f),
            new ScalarRightOperator<double, MaximumOperator<double>>(0.0));
        return GradMode.ShouldRecord(this) ? new ActivationBackward<ActivationKernels.ReluBackward>("relu", this, result, new()).Attach(result) : result;
    }

    /// <summary>x where x &gt; 0, else slope·x.</summary>
    public Tensor LeakyRelu(double slope = 0.01)
    {
        var result = MapActivation("leaky_relu", new ActivationKernels.LeakyRelu(slope));
        return GradMode.ShouldRecord(this) ? new ActivationBackward<ActivationKernels.LeakyReluBackward>("leaky_relu", this, this, new(slope)).Attach(result) : result;
    }

    /// <summary>
    /// Gaussian error linear unit, x·Φ(x). With <paramref name="approximate"/> the tanh form of Hendrycks and Gimpel
    /// (PyTorch's <c>approximate='tanh'</c>); otherwise the exact erf form.
    /// </summary>
    public Tensor Gelu(bool approximate = false)
    {
        if (approximate)
        {
            var r = MapActivation("gelu", new ActivationKernels.GeluTanh());
            return GradMode.ShouldRecord(this) ? new ActivationBackward<ActivationKernels.GeluTanhBackward>("gelu", this, this, new()).Attach(r) : r;
        }
        var result = MapActivation("gelu", new ActivationKernels.Gelu());
        return GradMode.ShouldRecord(this) ? new ActivationBackward<ActivationKernels.GeluBackward>("gelu", this, this, new()).Attach(result) : result;
    }

    /// <summary>x·σ(x) (also called swish).</summary>
    public Tensor Silu()
    {
        var result = MapActivation("silu", new ActivationKernels.Silu());
        return GradMode.ShouldRecord(this) ? new ActivationBackward<ActivationKernels.SiluBackward>("silu", this, this, new()).Attach(result) : result;
    }

    public Tensor Sigmoid()
    {
        var result = MapFloat("sigmoid", UnaryFunctions<float>.Sigmoid, UnaryFunctions<double>.Sigmoid);
        return GradMode.ShouldRecord(this) ? new ActivationBackward<ActivationKernels.SigmoidBackward>("sigmoid", this, result, new()).Attach(result) : result;
    }

    public Tensor Tanh()
    {
        var result = MapFloat("tanh", UnaryFunctions<float>.Tanh, UnaryFunctions<double>.Tanh);
        return GradMode.ShouldRecord(this) ? new ActivationBackward<ActivationKernels.TanhBackward>("tanh", this, result, new()).Attach(result) : result;
    }

    /// <summary>log(1 + exp(βx))/β, reverting to x where βx &gt; <paramref name="threshold"/> for numerical stability.</summary>
    public Tensor Softplus(double beta = 1, double threshold = 20)
    {
        if (!(beta > 0) || double.IsInfinity(beta)) throw new ArgumentException($"softplus: beta must be positive and finite, got {beta} (tensor of shape {Shape})");
        var result = MapActivation("softplus", new ActivationKernels.Softplus(beta, threshold));
        return GradMode.ShouldRecord(this)
            ? new ActivationBackward<ActivationKernels.SoftplusBackward>("softplus", this, this, new(beta, threshold)).Attach(result)
            : result;
    }

    /// <summary>Backward of an activation through a fused kernel of (dy, saved), where saved is the input or the output.</summary>
    private sealed class ActivationBackward<TOp> : BackwardNode where TOp : struct, IActivationBackward
    {
        private readonly SavedTensor _saved;
        private readonly TOp _op;

        public ActivationBackward(string op, Tensor input, Tensor saved, TOp backward) : base(op, input)
        {
            _saved = Save(saved);
            _op = backward;
        }

        protected internal override Tensor?[] Apply(Tensor g) => [FusedBackward(g, _saved.Value, _op)];
    }
}
