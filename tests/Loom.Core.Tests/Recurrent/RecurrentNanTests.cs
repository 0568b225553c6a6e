namespace Loom.Tests.Recurrent;

/// <summary>NaN through the relu RNN cell's backward, as PyTorch 1.13 (issue 8 item 5; Note [Parity], NaN semantics).</summary>
public class RecurrentNanTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Relu_cell_passes_the_gradient_at_a_nan_hidden_state_and_stops_it_at_zero(DType dtype)
    {
        // torch.nn.RNN(1, 1, nonlinearity='relu', bias=False) with W_ih = 1, W_hh = 0 gives x.grad = 1 at x = NaN.
        // 16 steps so both the vector body and the scalar tail of the kernel see a NaN and a zero.
        var values = Enumerable.Range(0, 16).Select(i => i % 4 == 0 ? double.NaN : i % 4 == 1 ? 0 : i % 4 == 2 ? -1 : 2).ToArray();
        var x = Tensor.FromArray(values).To(dtype).Reshape(1, 16, 1).RequiresGrad_(); // [T = 1, B = 16, input 1]
        var (output, _, _) = Functional.RecurrentLayer(RecurrentCell.RnnRelu, x, Tensor.Ones(new Shape(1, 1), dtype), Tensor.Zeros(new Shape(1, 1), dtype));
        output.Sum().Backward();
        var expected = values.Select(v => double.IsNaN(v) || v > 0 ? 1.0 : 0.0).ToArray();
        Assert.Equal(expected, x.Grad!.ToArray<double>());
    }
}
