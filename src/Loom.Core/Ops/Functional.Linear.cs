using Loom.Autograd;
using Loom.Kernels;

namespace Loom;

// Fully connected layer, as torch.nn.functional.linear.
//   y = x · Wᵀ + b          x [..., in], W [out, in], b [out], y [..., out]
//   dx = dy · W,  dW = dyᵀ · x,  db = Σ_rows dy     (all leading dimensions flattened into the GEMM's rows)
// Forward is one GEMM with W read transposed in place and the bias folded in: C starts as the bias rows and the
// GEMM accumulates into it (beta = 1), so there is no separate pass over the output.
public static partial class Functional
{
    /// <summary>Applies y = x · Wᵀ + b over the last dimension of <paramref name="input"/>.</summary>
    /// <remarks>Shapes: input [..., in], weight [out, in], bias [out] → [..., out].</remarks>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2)
            throw new ArgumentException($"linear: weight must be 2-D [out, in], got shape {weight.Shape}");
        if (input.Rank == 0 || input.Shape.Dims[^1] != weight.Shape[1])
            throw new ArgumentException($"linear: input {input.Shape} and weight {weight.Shape} do not match: the input's last dimension must equal weight's in-features ({weight.Shape[1]})");
        int outFeatures = weight.Shape[0], inFeatures = weight.Shape[1];
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outFeatures))
            throw new ArgumentException($"linear: bias must have shape [{outFeatures}] for weight {weight.Shape}, got {bias.Shape}");
        CheckLayerDTypes("linear", input, weight, bias);

        var leading = input.Shape.Dims[..^1].ToArray();
        int rows = 1;
        foreach (var d in leading) rows *= d;
        Tensor x;
        using (new NoGrad()) x = input.Reshape(rows, inFeatures); // a view unless input is strided

        var y = Tensor.Empty(Shape.Wrap([rows, outFeatures]), input.DType);
        if (bias is not null)
        {
            var b = bias.Contiguous();
            if (input.DType == DType.Float32) BiasKernels.FillRows<float>(b.Data<float>(), y.Data<float>());
            else BiasKernels.FillRows<double>(b.Data<double>(), y.Data<double>());
        }
        MatrixOperand.Multiply(MatrixOperand.Of(x, []), MatrixOperand.Of(weight, []).Transposed, MatrixOperand.Of(y, []), [], accumulate: bias is not null);
        var result = new Tensor(y.Storage, Shape.Wrap([.. leading, outFeatures]));
        return GradMode.ShouldRecord(input, weight, bias) ? new LinearBackward(input, weight, bias, x).Attach(result) : result;
    }

    private sealed class LinearBackward : BackwardNode
    {
        private readonly SavedTensor? _x;
        private readonly SavedTensor? _weight;
        private readonly Shape _inputShape;

        public LinearBackward(Tensor input, Tensor weight, Tensor? bias, Tensor flatInput) : base("linear", input, weight, bias)
        {
            _inputShape = input.Shape;
            if (NeedsGrad(0)) _weight = Save(weight);
            if (NeedsGrad(1)) _x = Save(flatInput);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            int outFeatures = gradOutput.Shape.Dims[^1];
            var dy = gradOutput.Reshape(RowsOf(_inputShape), outFeatures);
            var g = MatrixOperand.Of(dy, []);
            Tensor? gradInput = null, gradWeight = null, gradBias = null;
            if (NeedsGrad(0))
            {
                var w = _weight!.Value;
                var dx = Tensor.Empty(Shape.Wrap([dy.Shape[0], w.Shape[1]]), w.DType);
                MatrixOperand.Multiply(g, MatrixOperand.Of(w, []), MatrixOperand.Of(dx, []), [], accumulate: false);
                gradInput = new Tensor(dx.Storage, _inputShape);
            }
            if (NeedsGrad(1))
            {
                var x = _x!.Value;
                gradWeight = Tensor.Empty(Shape.Wrap([outFeatures, x.Shape[1]]), x.DType);
                MatrixOperand.Multiply(g.Transposed, MatrixOperand.Of(x, []), MatrixOperand.Of(gradWeight, []), [], accumulate: false);
            }
            if (NeedsGrad(2))
            {
                var rows = dy.Contiguous();
                gradBias = Tensor.Empty(Shape.Wrap([outFeatures]), rows.DType);
                if (rows.DType == DType.Float32) BiasKernels.ColumnSums<float>(rows.Data<float>(), gradBias.Data<float>());
                else BiasKernels.ColumnSums<double>(rows.Data<double>(), gradBias.Data<double>());
            }
            return [gradInput, gradWeight, gradBias];
        }

        private static int RowsOf(Shape inputShape)
        {
            int rows = 1;
            for (int i = 0; i < inputShape.Rank - 1; i++) rows *= inputShape[i];
            return rows;
        }
    }

    /// <summary>Checks that every given tensor is float32 or float64 and that they agree.</summary>
    private static void CheckLayerDTypes(string op, Tensor input, Tensor weight, Tensor? bias)
    {
        if (!input.DType.IsFloatingPoint())
            throw new NotSupportedException($"{op}: dtype {input.DType.Name()} is not supported (float32 or float64 only), input {input.Shape}");
        if (weight.DType != input.DType || (bias is not null && bias.DType != input.DType))
            throw new ArgumentException($"{op}: dtypes differ: input {input.DType.Name()}, weight {weight.DType.Name()}" + (bias is null ? "" : $", bias {bias.DType.Name()}"));
    }
}
