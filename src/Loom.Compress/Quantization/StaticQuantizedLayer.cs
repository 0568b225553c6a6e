namespace Loom.Compress;

/// <summary>
/// What the static int8 layers share: int8 weights (symmetric per output channel), a float bias, fixed input
/// quantisation parameters found by calibration, and either a float output or a u8 output requantised with the next
/// quantised layer's input parameters (PyTorch: <c>torch.ao.nn.quantized.Conv2d</c>/<c>Linear</c> after <c>convert</c>).
/// </summary>
/// <remarks>
/// A u8 input is taken as already quantised with this layer's input parameters: <see cref="StaticQuantization"/> gives
/// the producing layer exactly these as its output parameters. A float input is quantised with them (the model's first
/// layer). State dict: <c>weight</c> (int8), <c>weight_scale</c>, <c>weight_zero_point</c>, <c>bias</c>,
/// <c>input_scale</c>/<c>input_zero_point</c> and, when the output is requantised, <c>output_scale</c>/<c>output_zero_point</c>.
/// </remarks>
public abstract class StaticQuantizedLayer : Module<Tensor, Tensor>
{
    private protected readonly Int8WeightState State;

    private protected StaticQuantizedLayer(Shape weightShape, bool bias, bool requantize)
    {
        int outputs = weightShape[0], depth = weightShape.Numel / outputs;
        Weight = RegisterBuffer("weight", Tensor.Zeros(weightShape, DType.Int8))!;
        WeightScale = RegisterBuffer("weight_scale", Tensor.Ones(new Shape(outputs)))!;
        WeightZeroPoint = RegisterBuffer("weight_zero_point", Tensor.Zeros(new Shape(outputs), DType.Int32))!;
        Bias = RegisterBuffer("bias", bias ? Tensor.Zeros(new Shape(outputs)) : null);
        InputScale = RegisterBuffer("input_scale", Tensor.Ones(new Shape(1)))!;
        InputZeroPoint = RegisterBuffer("input_zero_point", Tensor.Zeros(new Shape(1), DType.Int32))!;
        OutputScale = RegisterBuffer("output_scale", requantize ? Tensor.Ones(new Shape(1)) : null);
        OutputZeroPoint = RegisterBuffer("output_zero_point", requantize ? Tensor.Zeros(new Shape(1), DType.Int32) : null);
        State = new Int8WeightState(GetType().Name, Weight, WeightScale, WeightZeroPoint, Bias, outputs, depth,
            weightShape.Rank == 4 ? (weightShape[1], weightShape[2], weightShape[3]) : null);
    }

    public Tensor Weight { get; }
    public Tensor WeightScale { get; }
    public Tensor WeightZeroPoint { get; }
    public Tensor? Bias { get; }
    public Tensor InputScale { get; }
    public Tensor InputZeroPoint { get; }
    public Tensor? OutputScale { get; }
    public Tensor? OutputZeroPoint { get; }

    /// <summary>Whether the output is u8 for the next quantised layer (else float).</summary>
    public bool Requantizes => OutputScale is not null;

    /// <summary>The fixed parameters the input is quantised with.</summary>
    public QuantParams InputParams
    {
        get => ReadParams(InputScale, InputZeroPoint, "input");
        set => WriteParams(InputScale, InputZeroPoint, value);
    }

    /// <summary>The parameters of the requantised output (the next quantised layer's input parameters).</summary>
    public QuantParams OutputParams
    {
        get => Requantizes ? ReadParams(OutputScale!, OutputZeroPoint!, "output") : throw new InvalidOperationException($"{GetType().Name}: the output is float, not requantised");
        set
        {
            if (!Requantizes) throw new InvalidOperationException($"{GetType().Name}: the output is float, not requantised");
            WriteParams(OutputScale!, OutputZeroPoint!, value);
        }
    }

    /// <summary>Bytes of the layer's state as a checkpoint stores it.</summary>
    public long SizeInBytes => State.SizeInBytes + 8 + (Requantizes ? 8 : 0);

    /// <summary>Checks the stored state (as a dynamic int8 weight's <see cref="PackedWeight.Validate"/>, plus the activation parameters) and packs it.</summary>
    public void Validate()
    {
        State.Packed();
        _ = InputParams;
        if (Requantizes) _ = OutputParams;
    }

    /// <summary>Fills weights and bias from a float layer's (weights [out, …] flattened per output channel).</summary>
    private protected void QuantizeWeights(Tensor weight, Tensor? bias)
    {
        using var noGrad = new Autograd.NoGrad();
        State.Quantize(weight.Contiguous().AsReadOnlySpan<float>(), bias is null ? [] : bias.Contiguous().AsReadOnlySpan<float>());
    }

    /// <summary>The input as u8 with <see cref="InputParams"/>: a u8 tensor as it is, a float one quantised; rows of
    /// <paramref name="depth"/> values are copied to a stride of <paramref name="ld"/> (≥ depth) when the two differ.</summary>
    private protected (byte[] Buffer, QuantParams Params) QuantizedInput(Tensor input, int depth, int ld)
    {
        var qp = InputParams;
        var x = input.Contiguous();
        int rows = depth == 0 ? 0 : x.Numel / depth;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, rows * ld));
        if (input.DType == DType.UInt8)
        {
            var src = x.AsReadOnlySpan<byte>();
            if (ld == depth) src.CopyTo(buffer);
            else
                for (int i = 0; i < rows; i++)
                {
                    src.Slice(i * depth, depth).CopyTo(buffer.AsSpan(i * ld));
                    buffer.AsSpan(i * ld + depth, ld - depth).Clear();
                }
        }
        else if (input.DType == DType.Float32)
        {
            var src = x.AsReadOnlySpan<float>();
            for (int i = 0; i < rows; i++)
            {
                Int8Quantization.Quantize(src.Slice(i * depth, depth), qp, buffer.AsSpan(i * ld, depth));
                buffer.AsSpan(i * ld + depth, ld - depth).Clear();
            }
        }
        else throw new ArgumentException($"{GetType().Name}: takes float32 or quantised u8 input, got {input.DType.Name()}");
        return (buffer, qp);
    }

    private QuantParams ReadParams(Tensor scale, Tensor zeroPoint, string what)
    {
        float s = scale.ToArray<float>()[0];
        int z = zeroPoint.ToArray<int>()[0];
        if (!(s > 0) || !float.IsFinite(s)) throw new InvalidDataException($"{GetType().Name}: {what}_scale is {s}; scales must be positive and finite");
        if (z is < 0 or > Int8Gemm.ActivationMax) throw new InvalidDataException($"{GetType().Name}: {what}_zero_point is {z}; activation zero points lie in [0, {Int8Gemm.ActivationMax}]");
        return new QuantParams(s, z);
    }

    private static void WriteParams(Tensor scale, Tensor zeroPoint, QuantParams value)
    {
        scale.AsSpan<float>()[0] = value.Scale;
        zeroPoint.AsSpan<int>()[0] = value.ZeroPoint;
    }
}
