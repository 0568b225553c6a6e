namespace Loom.Nn;

/// <summary>
/// Inverted dropout: in training mode zeroes each element with probability p and scales the rest by 1/(1−p); in eval
/// mode returns the input. Draws from <c>generator</c> or the default generator (seeded by the trainer).
/// </summary>
public sealed class Dropout : Module<Tensor, Tensor>
{
    private readonly Generator? _generator;

    public Dropout(double p = 0.5, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1]");
        P = p;
        _generator = generator;
    }

    public double P { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.Dropout(input, P, Training, _generator);

    protected override string ExtraRepr() => $"p={P}";
}
