using Loom.Testing;

namespace Loom.Tests.Optim;

/// <summary>The public optimiser updates (what Loom.Nn's optimisers call); their arithmetic is checked in SimdPathTests.</summary>
public class OptimizerUpdateTests
{
    [Fact]
    public void Adam_update_moves_the_parameter_against_the_gradient_and_fills_its_moments()
    {
        var p = Tensor.FromArray(new float[] { 1, -2, 3 });
        var g = Tensor.FromArray(new float[] { 0.5f, -0.5f, 0 });
        var m = Tensor.Zeros(new Shape(3));
        var v = Tensor.Zeros(new Shape(3));
        Functional.AdamUpdate(p, g, m, v, null, step: 1, learningRate: 0.1);
        // After one step m̂/√v̂ = sign(g): each element moves by lr against its gradient (eps aside).
        TensorAssert.Close(new double[] { 0.9, -1.9, 3 }, p.ToArray<double>(), 1e-6, 0);
        TensorAssert.Close(new double[] { 0.05, -0.05, 0 }, m.ToArray<double>(), 1e-7, 0);
        TensorAssert.Close(new double[] { 2.5e-4, 2.5e-4, 0 }, v.ToArray<double>(), 0, 1e-4); // 1 − β2 in float32
    }

    [Fact]
    public void Updates_refuse_bad_tensors_with_a_clear_message()
    {
        var p = Tensor.Zeros(new Shape(4));
        var g = Tensor.Zeros(new Shape(4));
        TensorAssert.Throws<NotSupportedException>(() => Functional.SgdUpdate(Tensor.FromArray(new[] { 1, 2 }), Tensor.FromArray(new[] { 1, 2 }), null, 0.1),
            "sgd", "int32");
        TensorAssert.Throws<ArgumentException>(() => Functional.AdamUpdate(p, g, Tensor.Zeros(new Shape(3)), Tensor.Zeros(new Shape(4)), null, 1, 0.1),
            "adam", "[3]", "[4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.AdagradUpdate(p, Tensor.Zeros(new Shape(4), DType.Float64), Tensor.Zeros(new Shape(4)), 1, 0.1),
            "adagrad", "float64", "float32");
        TensorAssert.Throws<ArgumentException>(() => Functional.SgdUpdate(p, g, null, 0.1, momentum: 0.9), "sgd", "momentum buffer");
        TensorAssert.Throws<ArgumentException>(() => Functional.RmsPropUpdate(p, g, Tensor.Zeros(new Shape(4)), null, null, 0.1, momentum: 0.9), "rmsprop", "momentum buffer");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => Functional.AdamUpdate(p, g, Tensor.Zeros(new Shape(4)), Tensor.Zeros(new Shape(4)), null, 0, 0.1), "step");
    }
}
