using Loom.Kernels;
using Loom.Testing;

namespace Loom.Tests.Reductions;

public class ExpKernelTests
{
    [Fact]
    public void Fused_exp_is_accurate_and_identical_on_every_vector_path()
    {
        foreach (int n in TestTensors.OddSizes.Append(1000))
        {
            var x = TestTensors.Uniform(n, -90, 90, DType.Float32, n).ToArray<float>();
            if (n > 3) (x[0], x[1], x[2]) = (float.NaN, float.NegativeInfinity, -0f);
            var y512 = new float[n];
            var y256 = new float[n];
            var scalar = new float[n];
            float s512 = ExpKernels.ExpShiftedSum(x, 1.5f, y512, 512);
            float s256 = ExpKernels.ExpShiftedSum(x, 1.5f, y256, 256);
            float s0 = ExpKernels.ExpShiftedSum(x, 1.5f, scalar, 0);
            Assert.Equal(scalar, y512);
            Assert.Equal(scalar, y256);
            if (float.IsNaN(s0)) Assert.True(float.IsNaN(s512) && float.IsNaN(s256)); // a NaN input poisons the sum
            else
            {
                Assert.Equal(s0, s512, Math.Abs(s0) * 1e-5);
                Assert.Equal(s0, s256, Math.Abs(s0) * 1e-5);
            }
            Assert.Equal(s0, ExpKernels.ExpShiftedSum(x, 1.5f, default, 0)); // sum only, no store
            for (int i = 0; i < n; i++)
            {
                double exact = Math.Exp(x[i] - 1.5f);
                if (double.IsNaN(exact)) Assert.True(float.IsNaN(scalar[i]));
                else if (exact < 1.2e-38) Assert.True(scalar[i] <= 1.2e-38);
                else if (exact > 2.4e38) Assert.Equal(float.PositiveInfinity, scalar[i]); // documented early overflow
                else Assert.Equal(exact, scalar[i], exact * 3e-7);
            }
        }
    }
}
