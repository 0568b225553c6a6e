namespace Loom;

// Smooth activations built on softplus (floats), in forms without overflow or cancellation:
//   logsigmoid:  y = log σ(x) = min(x, 0) − log1p(e^−|x|)          dx = dy·σ(−x)
//   mish:        y = x·tanh(softplus(x))                            dx = dy·(t + x(1 − t²)σ(x)), t = tanh(softplus(x))
public partial class Tensor
{
    /// <summary>log(1/(1 + e⁻ˣ)), stable for every x (like <c>torch.nn.functional.logsigmoid</c>).</summary>
    public Tensor LogSigmoid() => ScalarActivation("log_sigmoid", new LogSigmoidActivation());

    /// <summary>x·tanh(log(1 + eˣ)) (Misra, 2019; like <c>torch.nn.functional.mish</c>).</summary>
    public Tensor Mish() => ScalarActivation("mish", new MishActivation());
}
