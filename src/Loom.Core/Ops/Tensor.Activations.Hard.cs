namespace Loom;

// Piecewise-linear activations (floats); gradients at the kinks as PyTorch's backward kernels define them:
//   hardtanh(min, max): y = clamp(x, min, max)                      dx = dy strictly inside (min, max), else 0
//   relu6:              hardtanh(0, 6)
//   hardsigmoid:        y = clamp(x/6 + ½, 0, 1)                    dx = dy/6 strictly inside (−3, 3)
//   hardswish:          y = x·clamp(x + 3, 0, 6)/6                  dx = 0 (x < −3), dy·(x/3 + ½) (−3 ≤ x < 3), dy (x ≥ 3)
public partial class Tensor
{
    /// <summary>x clamped to [min, max] (like <c>torch.nn.functional.hardtanh</c>); the gradient is 0 at the bounds.</summary>
    public Tensor Hardtanh(double min = -1, double max = 1)
    {
        if (!(min <= max)) throw new ArgumentException($"hardtanh: min {min} must not exceed max {max} (tensor of shape {Shape})");
        return ScalarActivation("hardtanh", new HardtanhActivation(min, max));
    }

    /// <summary>min(max(x, 0), 6).</summary>
    public Tensor Relu6() => ScalarActivation("relu6", new HardtanhActivation(0, 6));

    /// <summary>clamp(x/6 + ½, 0, 1), a piecewise-linear sigmoid (MobileNetV3).</summary>
    public Tensor Hardsigmoid() => ScalarActivation("hardsigmoid", new HardsigmoidActivation());

    /// <summary>x·clamp(x + 3, 0, 6)/6, a piecewise swish (MobileNetV3).</summary>
    public Tensor Hardswish() => ScalarActivation("hardswish", new HardswishActivation());
}
