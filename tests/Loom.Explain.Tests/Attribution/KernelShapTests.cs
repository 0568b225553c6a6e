namespace Loom.Explain.Tests;

public sealed class KernelShapTests
{
    [Theory]
    [InlineData(300)] // 8 features: all 254 coalitions, exact
    [InlineData(64)] // 32 sampled pairs: still exact for a linear model, whose output the regression fits exactly
    public void Shap_values_of_a_linear_model_are_weight_times_input_minus_baseline(int samples)
    {
        var (model, layer) = TestModels.Linear(8, 3, seed: 8);
        var x = TestTensors.Randn(1, DType.Float64, 5, 8);
        var baseline = Tensor.FromArray(new[] { 0.5, -1, 0, 2, 1, 1, -3, 0.25 });
        var targets = Tensor.FromArray(new long[] { 0, 1, 2, 2, 1 });
        var shap = new KernelShap(model) { Samples = samples, Baseline = baseline, Generator = new Generator(1) }.Attribute(x, targets);
        TensorAssert.Close(x.Sub(baseline).Mul(layer.Weight.Detach().IndexSelect(0, targets)), shap, atol: 1e-9, rtol: 1e-9);
    }

    [Fact]
    public void Enumerated_coalitions_give_the_shapley_values_of_their_definition()
    {
        var (model, _, _) = TestModels.ReluNet(4, 6, 2, seed: 9);
        var x = TestTensors.Randn(2, DType.Float64, 3, 4);
        var targets = Tensor.FromArray(new long[] { 1, 0, 1 });
        var shap = new KernelShap(model).Attribute(x, targets).ToArray<double>();
        // φ_j = Σ over S ⊆ others of |S|! (M − |S| − 1)! / M! · (v(S ∪ {j}) − v(S)), with v(S) = f(x on S, 0 elsewhere).
        int m = 4;
        double Value(int row, int mask)
        {
            var input = new double[m];
            for (int j = 0; j < m; j++) input[j] = (mask >> j & 1) == 1 ? x.GetDouble(row, j) : 0;
            using var noGrad = new NoGrad();
            return model.Forward(Tensor.FromArray(input, 1, m)).GetDouble(0, (int)targets.ToArray<long>()[row]);
        }
        double Factorial(int k) => k <= 1 ? 1 : k * Factorial(k - 1);
        for (int row = 0; row < 3; row++)
            for (int j = 0; j < m; j++)
            {
                double phi = 0;
                for (int mask = 0; mask < 1 << m; mask++)
                {
                    if ((mask >> j & 1) == 1) continue;
                    int size = System.Numerics.BitOperations.PopCount((uint)mask);
                    phi += Factorial(size) * Factorial(m - size - 1) / Factorial(m) * (Value(row, mask | 1 << j) - Value(row, mask));
                }
                Assert.True(Math.Abs(phi - shap[row * m + j]) < 1e-9, $"row {row} feature {j}: KernelSHAP {shap[row * m + j]}, Shapley {phi}");
            }
    }
}
