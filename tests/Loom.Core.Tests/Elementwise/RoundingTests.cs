namespace Loom.Tests.Elementwise;

/// <summary>What the OpInfo goldens cannot show: errors, and which results carry gradients.</summary>
public class RoundingTests
{
    [Fact]
    public void Integer_division_by_zero_is_an_error_that_names_the_op()
    {
        var a = Tensor.FromArray(new long[] { 4, 5 });
        var b = Tensor.FromArray(new long[] { 2, 0 });
        TensorAssert.Throws<DivideByZeroException>(() => a.FloorDivide(b), "floor_divide", "division by zero");
        TensorAssert.Throws<DivideByZeroException>(() => a.Remainder(0), "remainder", "division by zero");
    }

    [Fact]
    public void Float_division_by_zero_follows_ieee()
    {
        var a = Tensor.FromArray(new[] { 1.0, -1.0, 0.0 });
        Assert.Equal([double.PositiveInfinity, double.NegativeInfinity, double.NaN], a.FloorDivide(0).ToArray<double>());
    }

    [Fact]
    public void Rounding_passes_a_zero_gradient_and_floor_divide_none()
    {
        var x = TestTensors.Param(3, 5);
        x.Round().Add(x.Floor()).Add(x.Sign()).Sum().Backward();
        Assert.Equal(new double[5], x.Grad!.ToArray<double>());
        Assert.False(x.FloorDivide(2).RequiresGrad);
    }
}
