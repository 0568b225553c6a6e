namespace Loom;

// Fully connected layer, as torch.nn.functional.linear, optionally with its activation fused in.
//   z = x · Wᵀ + b,  y = act(z)        x [..., in], W [out, in], b [out], y [..., out]
//   dz = dy ⊙ act'(·),  dx = dz · W,  dW = dzᵀ · x,  db = Σ_rows dz     (leading dimensions flattened into the rows)
// Forward is one GEMM with W read transposed in place; the bias and the activation are its epilogue, applied to each
// block of the output while it is in cache (GemmEpilogue), so there is no separate pass over the output and, for
// ReLU, sigmoid and tanh (whose derivative needs only y), no second tensor. GELU and SiLU need z for the backward:
// when recording, z and y are separate tensors; under NoGrad the activation is applied in place.
public static partial class Functional
{
    /// <summary>
    /// <paramref name="activation"/> applied to <paramref name="x"/> as its separate tensor op (<see cref="Activation.None"/>
    /// returns <paramref name="x"/> itself): what an op with a fused activation computes when it cannot fuse, e.g. while
    /// autograd records or a hook must see the pre-activation output.
    /// </summary>
    public static Tensor Activate(Tensor x, Activation activation) => activation switch
    {
        Activation.None => x,
        Activation.Relu => x.Relu(),
        Activation.Gelu => x.Gelu(),
        Activation.GeluTanh => x.Gelu(approximate: true),
        Activation.Silu => x.Silu(),
        Activation.Sigmoid => x.Sigmoid(),
        Activation.Tanh => x.Tanh(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, $"unknown activation {activation}"),
    };

    /// <summary>Applies y = x · Wᵀ + b over the last dimension of <paramref name="input"/>.</summary>
    /// <remarks>Shapes: input [..., in], weight [out, in], bias [out] → [..., out].</remarks>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null) => Linear(input, weight, bias, Activation.None);

    /// <summary>
    /// Applies y = activation(x · Wᵀ + b) as one op: the same values as <c>Linear</c> followed by the activation's tensor
    /// op, computed while each block of the output is still in cache.
    /// </summary>
    /// <remarks>Shapes: input [..., in], weight [out, in], bias [out] → [..., out].</remarks>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias, Activation activation)
    {
        if (weight.Rank != 2)
            throw new ArgumentException($"linear: weight must be 2-D [out, in], got shape {weight.Shape}");
        if (input.Rank == 0 || input.Shape.Dims[^1] != weight.Shape[1])
            throw new ArgumentException($"linear: input {input.Shape} and weight {weight.Shape} do not match: the input's last dimension must equal weight's in-features ({weight.Shape[1]})");
        int outFeatures = weight.Shape[0], inFeatures = weight.Shape[1];
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outFeatures))
            throw new ArgumentException($"linear: bias must have shape [{outFeatures}] for weight {weight.Shape}, got {bias.Shape}");
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, $"linear: unknown activation {activation}");
        CheckLayerDTypes("linear", input, weight, bias);

        int rows = 1;
        for (int i = 0; i < input.Rank - 1; i++) rows *= input.Shape[i];
        Tensor x;
        using (new NoGrad()) x = input.Rank == 2 ? input : input.Reshape(rows, inFeatures); // a view unless input is strided

        bool record = GradMode.ShouldRecord(input, weight, bias);
        bool keepPreActivation = record && BackwardNeedsInput(activation);
        var z = Tensor.Empty(Shape.Wrap([rows, outFeatures]), input.DType);
        var y = keepPreActivation ? Tensor.Empty(z.Shape, input.DType) : z;
        MatrixOperand.MultiplyBiasActivation(MatrixOperand.Of(x, []), MatrixOperand.Of(weight, []).Transposed, z,
            bias?.Contiguous(), activation, keepPreActivation ? y : null);
        var result = input.Rank == 2 ? y : new Tensor(y.Storage, OutputShape(input.Shape, outFeatures));
        if (!record) return result;
        var saved = activation == Activation.None ? null : keepPreActivation ? z : result;
        return new LinearBackward(input, weight, bias, x, activation, saved).Attach(result);
    }

    /// <summary>Whether the activation's derivative is computed from its input (else from its output).</summary>
    private static bool BackwardNeedsInput(Activation activation) =>
        activation is Activation.Gelu or Activation.GeluTanh or Activation.Silu;

    private static Shape OutputShape(Shape input, int outFeatures)
    {
        var dims = new int[input.Rank];
        for (int i = 0; i < dims.Length - 1; i++) dims[i] = input[i];
        dims[^1] = outFeatures;
        return Shape.Wrap(dims);
    }

    private sealed class LinearBackward : BackwardNode
    {
        private readonly SavedTensor? _x;
        private readonly SavedTensor? _weight;
        private readonly Shape _inputShape;
        private readonly Activation _activation;
        private readonly SavedTensor? _activationSaved; // the pre-activation or the output, see BackwardNeedsInput

        public LinearBackward(Tensor input, Tensor weight, Tensor? bias, Tensor flatInput, Activation activation, Tensor? activationSaved)
            : base(Name(activation), input, weight, bias)
        {
            _inputShape = input.Shape;
            _activation = activation;
            if (NeedsGrad(0)) _weight = Save(weight);
            if (NeedsGrad(1)) _x = Save(flatInput);
            if (activationSaved is not null) _activationSaved = Save(activationSaved);
        }

        private static string Name(Activation activation) => activation switch
        {
            Activation.None => "linear",
            Activation.Relu => "linear_relu",
            Activation.Gelu => "linear_gelu",
            Activation.GeluTanh => "linear_gelu_tanh",
            Activation.Silu => "linear_silu",
            Activation.Sigmoid => "linear_sigmoid",
            Activation.Tanh => "linear_tanh",
            _ => "linear",
        };

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            int outFeatures = gradOutput.Shape.Dims[^1];
            var dz = _activation == Activation.None ? gradOutput : ActivationGrad(gradOutput, _activationSaved!.Value);
            var dy = dz.Reshape(RowsOf(_inputShape), outFeatures);
            var g = MatrixOperand.Of(dy, []);
            Tensor? gradInput = null, gradWeight = null, gradBias = null;
            Products products = default;
            if (NeedsGrad(0))
            {
                var w = _weight!.Value;
                var dx = Tensor.Empty(Shape.Wrap([dy.Shape[0], w.Shape[1]]), w.DType);
                products.Dx = (g, MatrixOperand.Of(w, []), MatrixOperand.Of(dx, []));
                gradInput = new Tensor(dx.Storage, _inputShape);
            }
            // A parameter whose gradient array exists (a loop that zeroes rather than drops gradients) gets its
            // contribution written straight into it, with beta = 0 after a deferred ZeroGrad and 1 otherwise: a
            // temporary would cost GPT-2's step 500 MB written, then read twice and written again by the add.
            Tensor? biasTarget = null;
            bool accumulateBias = false;
            if (NeedsGrad(2))
            {
                biasTarget = Inputs[2]!.InPlaceGradTarget(Shape.Wrap([outFeatures]), dy.DType, out bool assign);
                products.Bias = biasTarget ?? (gradBias = Tensor.Empty(Shape.Wrap([outFeatures]), dy.DType));
                accumulateBias = biasTarget is not null && !assign;
            }
            Tensor? weightTarget = null;
            if (NeedsGrad(1))
            {
                var x = _x!.Value;
                var shape = Shape.Wrap([outFeatures, x.Shape[1]]);
                weightTarget = Inputs[1]!.InPlaceGradTarget(shape, x.DType, out bool assign);
                var dw = weightTarget ?? (gradWeight = Tensor.Empty(shape, x.DType));
                products.Dw = (g.Transposed, MatrixOperand.Of(x, []), MatrixOperand.Of(dw, []));
                products.AccumulateDw = weightTarget is not null && !assign;
                // The bias gradient, dy's column sums, is added as the weight gradient's GEMM packs dyᵀ (same bits as
                // summing dy's rows in order): no pass over dy of its own. dy stored by columns (a transposed view)
                // keeps the separate sums below.
                if (products.Bias is { } db && !g.Trans)
                {
                    if (!accumulateBias) ClearSums(db);
                    products.SumBiasInDw = true;
                }
            }
            if (products.Dx.HasValue && products.Dw.HasValue && SideBySide(2L * dy.Shape[0] * outFeatures * _inputShape.Dims[^1]))
                ParallelHelper.For(2, 1, products, static (p, start, end) =>
                {
                    for (int i = start; i < end; i++) p.Run(i);
                });
            else
            {
                products.Run(0);
                products.Run(1);
            }
            if (weightTarget is not null) Inputs[1]!.GradWritten();
            if (products.Bias is { } bias)
            {
                if (!products.SumBiasInDw)
                {
                    var rows = dy.Contiguous();
                    if (rows.DType == DType.Float32) BiasKernels.ColumnSums<float>(rows.Data<float>(), bias.Data<float>(), accumulateBias);
                    else BiasKernels.ColumnSums<double>(rows.Data<double>(), bias.Data<double>(), accumulateBias);
                }
                if (biasTarget is not null) Inputs[2]!.GradWritten();
            }
            return [gradInput, gradWeight, gradBias];
        }

        /// <summary>
        /// Whether dx and dW run side by side, one whole product per thread, rather than one after the other with each
        /// split over both threads. The two products have the same FLOPs, and split in two a product of few rows
        /// scales poorly: both threads pack all of its narrow operand (dz for dx, all 50,257 columns of it for GPT-2's
        /// tied logits). Side by side each operand is packed once, and the results are the same bits (every GEMM sums
        /// in the same order at any thread count). Only at two threads: the pool runs a nested product on one thread.
        /// </summary>
        private static bool SideBySide(long flopsEach) => Threads.Count == 2 && flopsEach >= MatrixOperand.ParallelFlops;

        /// <summary>
        /// The input and weight gradient products of one backward: dx = dz · W (0) and dW = dzᵀ · x (1), the latter
        /// also summing the bias gradient when <see cref="SumBiasInDw"/>.
        /// </summary>
        private struct Products
        {
            public (MatrixOperand A, MatrixOperand B, MatrixOperand C)? Dx, Dw;
            public bool AccumulateDw, SumBiasInDw;
            public Tensor? Bias;

            public readonly void Run(int which)
            {
                if ((which == 0 ? Dx : Dw) is not { } product) return;
                if (which == 1 && SumBiasInDw)
                    MatrixOperand.MultiplyWithColumnSums(product.A, product.B, product.C, AccumulateDw, Bias!);
                else
                    MatrixOperand.Multiply(product.A, product.B, product.C, [], accumulate: which == 1 && AccumulateDw);
            }
        }

        private static void ClearSums(Tensor sums)
        {
            if (sums.DType == DType.Float32) sums.Data<float>().Clear();
            else sums.Data<double>().Clear();
        }

        /// <summary>dz = dy ⊙ act'(·) through the same fused kernels as the activations' own backward.</summary>
        private Tensor ActivationGrad(Tensor dy, Tensor saved) => _activation switch
        {
            Activation.Relu => Tensor.FusedBackward(dy, saved, new ActivationKernels.ReluBackward()),
            Activation.Sigmoid => Tensor.FusedBackward(dy, saved, new ActivationKernels.SigmoidBackward()),
            Activation.Tanh => Tensor.FusedBackward(dy, saved, new ActivationKernels.TanhBackward()),
            Activation.Gelu => Tensor.FusedBackward(dy, saved, new ActivationKernels.GeluBackward()),
            Activation.GeluTanh => Tensor.FusedBackward(dy, saved, new ActivationKernels.GeluTanhBackward()),
            Activation.Silu => Tensor.FusedBackward(dy, saved, new ActivationKernels.SiluBackward()),
            _ => throw new InvalidOperationException($"linear: no backward for activation {_activation}"),
        };

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
