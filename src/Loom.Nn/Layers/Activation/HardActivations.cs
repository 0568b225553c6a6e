namespace Loom.Nn;

/// <summary>x clamped to [min, max] (<c>torch.nn.Hardtanh</c>).</summary>
public sealed class Hardtanh : Module<Tensor, Tensor>
{
    public Hardtanh(double minVal = -1, double maxVal = 1)
    {
        if (!(minVal <= maxVal)) throw new ArgumentException($"Hardtanh: min_val {minVal} must not exceed max_val {maxVal}");
        (MinVal, MaxVal) = (minVal, maxVal);
    }

    public double MinVal { get; }
    public double MaxVal { get; }

    protected override Tensor ForwardCore(Tensor input) => input.Hardtanh(MinVal, MaxVal);

    protected override string ExtraRepr() => $"min_val={MinVal}, max_val={MaxVal}";
}

/// <summary>min(max(x, 0), 6) (<c>torch.nn.ReLU6</c>).</summary>
public sealed class ReLU6() : ElementwiseActivation(static x => x.Relu6());

/// <summary>clamp(x/6 + ½, 0, 1) (<c>torch.nn.Hardsigmoid</c>).</summary>
public sealed class Hardsigmoid() : ElementwiseActivation(static x => x.Hardsigmoid());

/// <summary>x·clamp(x + 3, 0, 6)/6 (<c>torch.nn.Hardswish</c>).</summary>
public sealed class Hardswish() : ElementwiseActivation(static x => x.Hardswish());
