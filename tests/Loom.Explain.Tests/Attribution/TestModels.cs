namespace Loom.Explain.Tests;

/// <summary>Small models whose attributions can be worked out by hand.</summary>
internal static class TestModels
{
    /// <summary>f(x) = x·Wᵀ + b in float64, in evaluation mode.</summary>
    public static (Sequential Model, Linear Layer) Linear(int inputs, int outputs, ulong seed)
    {
        var layer = new Linear(inputs, outputs, dtype: DType.Float64, generator: new Generator(seed));
        var model = new Sequential(layer);
        model.Eval();
        return (model, layer);
    }

    /// <summary>f(x) = W₂·relu(W₁x + b₁) + b₂ in float64, in evaluation mode.</summary>
    public static (Sequential Model, Linear First, Linear Second) ReluNet(int inputs, int hidden, int outputs, ulong seed, DType dtype = DType.Float64)
    {
        var generator = new Generator(seed);
        var first = new Linear(inputs, hidden, dtype: dtype, generator: generator);
        var second = new Linear(hidden, outputs, dtype: dtype, generator: generator);
        var model = new Sequential(first, new ReLU(), second);
        model.Eval();
        return (model, first, second);
    }

    /// <summary>f(x) = Σ_i x_i³ per sample: IG_i = x_i³ exactly, by ∫₀¹ 3α²x_i² dα · x_i, for any rule exact on quadratics.</summary>
    public sealed class SumOfCubes : Module<Tensor, Tensor>
    {
        public SumOfCubes() => Eval();

        protected override Tensor ForwardCore(Tensor input) => input.Pow(3).Reshape(input.Shape[0], -1).Sum(1);
    }
}
