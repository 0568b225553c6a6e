namespace Loom.Nn;

/// <summary>x·tanh(softplus(x)) (<c>torch.nn.Mish</c>).</summary>
public sealed class Mish() : ElementwiseActivation(static x => x.Mish());

/// <summary>log σ(x) (<c>torch.nn.LogSigmoid</c>).</summary>
public sealed class LogSigmoid() : ElementwiseActivation(static x => x.LogSigmoid());
