namespace Loom.Compress;

/// <summary>
/// Fake quantisation of activations for quantisation-aware training, as PyTorch's <c>FakeQuantize</c> with a
/// <c>MovingAverageMinMaxObserver</c>: in training mode each batch's min and max update exponential moving averages
/// (the first batch sets them); the output is the input quantised to u7 with the parameters those give
/// (<see cref="Int8Quantization.ActivationParams"/>, the grid static int8 uses) and dequantised again.
/// </summary>
/// <remarks>
/// Backward is the straight-through estimator: gradient 1 where the input lies inside the representable range
/// [scale·(0 − zero), scale·(127 − zero)], 0 outside (the clip is a real clamp, the rounding is not differentiated).
/// Written as clamp(x) + (fakeQuant(x) − clamp(x)) with the bracket detached, so ordinary ops carry the gradient.
/// Buffers <c>min</c> and <c>max</c> (float32 [1]; +∞ and −∞ until the first batch, when the input passes through
/// unchanged) go into checkpoints.
/// </remarks>
public sealed class FakeQuantize : Module<Tensor, Tensor>
{
    public FakeQuantize(double averagingConstant = 0.01)
    {
        if (!(averagingConstant > 0 && averagingConstant <= 1))
            throw new ArgumentException($"FakeQuantize: the averaging constant must lie in (0, 1], got {averagingConstant}");
        AveragingConstant = averagingConstant;
        Min = RegisterBuffer("min", Tensor.Full(new Shape(1), double.PositiveInfinity))!;
        Max = RegisterBuffer("max", Tensor.Full(new Shape(1), double.NegativeInfinity))!;
    }

    /// <summary>Weight of a new batch's min and max in the moving averages (PyTorch's default 0.01).</summary>
    public double AveragingConstant { get; }

    public Tensor Min { get; }
    public Tensor Max { get; }

    /// <summary>Whether a batch has been observed (before that the module is the identity).</summary>
    public bool Observed => float.IsFinite(Min.ToArray<float>()[0]);

    /// <summary>The parameters of the observed range: what the converted layer's input is quantised with.</summary>
    public QuantParams Params => Observed
        ? Int8Quantization.ActivationParams(Min.ToArray<float>()[0], Max.ToArray<float>()[0])
        : throw new InvalidOperationException("FakeQuantize: no batch observed yet, so there is no range to quantise with");

    protected override Tensor ForwardCore(Tensor input)
    {
        if (!input.DType.IsFloatingPoint()) throw new ArgumentException($"FakeQuantize: takes float input, got {input.DType.Name()}");
        if (Training) Observe(input);
        return Observed ? Apply(input, Params) : input;
    }

    private void Observe(Tensor input)
    {
        if (input.Numel == 0) return;
        using var noGrad = new NoGrad();
        var values = input.Detach().To(DType.Float32).Contiguous().AsReadOnlySpan<float>();
        float min = System.Numerics.Tensors.TensorPrimitives.Min(values), max = System.Numerics.Tensors.TensorPrimitives.Max(values);
        var mins = Min.AsSpan<float>();
        var maxs = Max.AsSpan<float>();
        bool first = !float.IsFinite(mins[0]);
        float c = (float)AveragingConstant;
        mins[0] = first ? min : mins[0] + c * (min - mins[0]);
        maxs[0] = first ? max : maxs[0] + c * (max - maxs[0]);
    }

    /// <summary>
    /// x quantised with <paramref name="qp"/> and dequantised (values exactly as the int8 kernels quantise them), with
    /// the straight-through gradient: 1 inside the representable range, 0 outside.
    /// </summary>
    public static Tensor Apply(Tensor x, QuantParams qp)
    {
        double lo = qp.Scale * (0 - qp.ZeroPoint), hi = qp.Scale * (Int8Gemm.ActivationMax - qp.ZeroPoint);
        var clipped = x.Clamp(lo, hi);
        Tensor quantized;
        using (new NoGrad())
        {
            var values = x.Detach().To(DType.Float32).Contiguous().AsReadOnlySpan<float>();
            var q = new byte[values.Length];
            var dq = new float[values.Length];
            Int8Quantization.Quantize(values, qp, q);
            Int8Quantization.Dequantize(q, qp, dq);
            quantized = Tensor.FromArray(dq, x.Shape.Dims.ToArray()).To(x.DType);
        }
        return clipped.Add(quantized.Sub(clipped.Detach()));
    }

    /// <summary>
    /// Weights [out, …] quantised symmetrically per output channel and dequantised (exactly as
    /// <see cref="Int8Quantization.QuantizeWeightsPerChannel"/> does for the converted layer), with gradient 1 to the
    /// float weights: each channel's range is its own largest magnitude, so no weight lies outside it.
    /// </summary>
    public static Tensor ApplyPerChannel(Tensor weight)
    {
        int outputs = weight.Shape[0], depth = weight.Numel / outputs;
        Tensor quantized;
        using (new NoGrad())
        {
            var w = weight.Detach().To(DType.Float32).Contiguous().AsReadOnlySpan<float>();
            var q = new sbyte[w.Length];
            var scales = new float[outputs];
            Int8Quantization.QuantizeWeightsPerChannel(w, outputs, depth, q, scales);
            var dq = new float[w.Length];
            for (int i = 0; i < dq.Length; i++) dq[i] = q[i] * scales[i / depth];
            quantized = Tensor.FromArray(dq, weight.Shape.Dims.ToArray()).To(weight.DType);
        }
        return weight.Add(quantized.Sub(weight.Detach()));
    }

    protected override string ExtraRepr() => $"averaging_constant={AveragingConstant}, u7 per tensor";
}
