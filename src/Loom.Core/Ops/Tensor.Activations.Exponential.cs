namespace Loom;

// Exponential linear units (floats), one kernel with PyTorch's coefficients (EluActivation):
//   elu:   y = x if x > 0 else α·(eˣ − 1)                  dx = dy if x > 0 else dy·α·eˣ
//   selu:  y = λ·x if x > 0 else λα·(eˣ − 1)               λ = 1.0507009873554805, α = 1.6732632423543772
//   celu:  y = x if x > 0 else α·(e^(x/α) − 1)             dx = dy if x > 0 else dy·e^(x/α)
// eˣ − 1 is expm1, exact near 0⁻ where the textbook form cancels.
public partial class Tensor
{
    // SELU's λ and α (Klambauer et al., 2017), as PyTorch spells them.
    private const double SeluScale = 1.0507009873554804934193349852946, SeluAlpha = 1.6732632423543772848170429916717;

    /// <summary>x for x &gt; 0, α(eˣ − 1) otherwise (like <c>torch.nn.functional.elu</c>).</summary>
    public Tensor Elu(double alpha = 1.0) => ScalarActivation("elu", new EluActivation(1, alpha, 1));

    /// <summary>λx for x &gt; 0, λα(eˣ − 1) otherwise, with the self-normalising λ ≈ 1.0507 and α ≈ 1.6733 (like <c>torch.nn.functional.selu</c>).</summary>
    public Tensor Selu() => ScalarActivation("selu", new EluActivation(SeluScale, SeluScale * SeluAlpha, 1));

    /// <summary>max(0, x) + min(0, α(e^(x/α) − 1)) (like <c>torch.nn.functional.celu</c>); α must be non-zero.</summary>
    public Tensor Celu(double alpha = 1.0)
    {
        if (alpha == 0 || double.IsNaN(alpha)) throw new ArgumentException($"celu: alpha must be non-zero, got {alpha} (tensor of shape {Shape})");
        return ScalarActivation("celu", new EluActivation(1, alpha, 1 / alpha));
    }
}
