namespace Loom.Models;

/// <summary>
/// An anchor-free, centre-based detector after CenterNet (Zhou et al. 2019, "Objects as Points"), small enough to train
/// on two CPU cores: a convolutional backbone down to stride 4, then per output cell one heatmap logit per class
/// (is an object of that class centred here?), the box's width and height in pixels and the centre's sub-cell offset.
/// Input [N, C, H, W] with H and W multiples of <see cref="Stride"/> → [N, classes + 4, H/4, W/4]: channels
/// 0..classes-1 the heatmap logits, then width, height, x offset, y offset (the layout <see cref="CenterTargets"/>
/// encodes, and <see cref="Loss"/> and <see cref="Decode"/> read).
/// </summary>
/// <remarks>
/// The backbone halves the image twice (3×3 convolutions with batch norm), then three 3×3 convolutions dilated 1, 2 and
/// 4 widen the receptive field to about 75 pixels without further downsampling, so a 40-pixel object is seen whole
/// from its centre cell while the output keeps a cell every 4 pixels. The heatmap's bias starts at −log(9), a prior
/// score of 0.1, as in CenterNet and RetinaNet: with thousands of background cells per object, a start at 0.5 would
/// spend the first steps only unlearning false alarms. Sizes come out of the head in units of
/// <see cref="SizeUnit"/> pixels, so that the typical object is a target of order one.
/// </remarks>
public sealed class CenterNet : Module<Tensor, Tensor>
{
    /// <summary>Pixels per output cell.</summary>
    public const int Stride = 4;

    /// <summary>Pixels per unit of the size head's raw output.</summary>
    public const double SizeUnit = 16;

    public CenterNet(int classes, int inChannels = 1, int width = 48)
    {
        if (classes < 1 || inChannels < 1 || width < 1) throw new ArgumentException($"CenterNet: needs at least one class, input channel and width, got {classes}, {inChannels}, {width}");
        Classes = classes;
        InChannels = inChannels;
        Backbone = RegisterModule("backbone", new Sequential(
            ConvBn(inChannels, 16, stride: 2), ConvBn(16, 32), ConvBn(32, width, stride: 2),
            ConvBn(width, width, dilation: 1), ConvBn(width, width, dilation: 2), ConvBn(width, width, dilation: 4)));
        Head = RegisterModule("head", new Sequential(new Conv2d(width, width, 3, padding: 1), new ReLU()));
        Heat = RegisterModule("heat", new Conv2d(width, classes, 1));
        Box = RegisterModule("box", new Conv2d(width, 4, 1));
        Initialize(this, Heat, Box);
    }

    /// <summary>
    /// A centre-based detector's initialisation: Kaiming-normal convolutions, then the heatmap's bias at −log 9 (a prior
    /// score of 0.1) and small heatmap and box weights. Convolutions whose weights were already set to something
    /// else on purpose (a residual block's last batch-norm scale is not a convolution) are unaffected.
    /// </summary>
    internal static void Initialize(Module<Tensor, Tensor> model, Conv2d heat, Conv2d box)
    {
        using var noGrad = new NoGrad();
        foreach (var module in model.Modules())
            if (module is Conv2d conv) Init.KaimingNormal(conv.Weight, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
        Init.Normal(heat.Weight, std: 0.01);
        Init.Constant(heat.Bias!, -Math.Log(9));
        Init.Normal(box.Weight, std: 0.01);
        Init.Zeros(box.Bias!);
    }

    /// <summary>The check of a detector's input: images [N, C, H, W] with H and W multiples of <see cref="Stride"/>.</summary>
    internal static void CheckInput(string name, Tensor input, int inChannels)
    {
        if (input.Rank != 4 || input.Shape[1] != inChannels || input.Shape[2] % Stride != 0 || input.Shape[3] % Stride != 0)
            throw new ArgumentException($"{name}: expected images [N, {inChannels}, H, W] with H and W multiples of {Stride}, got shape {input.Shape}");
    }

    /// <summary>The output layout from the last features: heatmap logits, then width and height in pixels and the offset.</summary>
    internal static Tensor Output(Tensor features, Conv2d heat, Conv2d box)
    {
        var b = box.Forward(features);
        return Tensor.Cat([heat.Forward(features), b.Narrow(1, 0, 2).Mul(SizeUnit), b.Narrow(1, 2, 2)], axis: 1);
    }

    public int Classes { get; }
    public int InChannels { get; }
    public Sequential Backbone { get; }
    public Sequential Head { get; }
    public Conv2d Heat { get; }
    public Conv2d Box { get; }

    internal static Sequential ConvBn(int inChannels, int outChannels, int stride = 1, int dilation = 1) =>
        new(new Conv2d(inChannels, outChannels, 3, stride: stride, padding: dilation, dilation: dilation, bias: false), new BatchNorm2d(outChannels), new ReLU());

    protected override Tensor ForwardCore(Tensor input)
    {
        CheckInput("CenterNet", input, InChannels);
        return Output(Head.Forward(Backbone.Forward(input)), Heat, Box);
    }

    /// <summary>
    /// CenterNet's training loss, averaged over the objects of the batch: the penalty-reduced focal loss of the heatmap
    /// (α 2, β 4: cells near a centre, where the target Gaussian is high, are punished little for scoring high), plus
    /// L1 of the offset and 0.1 × L1 of the size in pixels at the objects' centre cells.
    /// <paramref name="output"/> [N, classes + 4, h, w] as <see cref="CenterNet"/> gives it; <paramref name="target"/>
    /// [N, classes + 5, h, w]: heatmap, size, offset and the centre mask of <see cref="CenterTargets.Encode"/>.
    /// </summary>
    public static Tensor Loss(Tensor output, Tensor target)
    {
        if (output.Rank != 4 || target.Rank != 4 || target.Shape[1] != output.Shape[1] + 1 || output.Shape[1] < 5
            || target.Shape[0] != output.Shape[0] || target.Shape[2] != output.Shape[2] || target.Shape[3] != output.Shape[3])
            throw new ArgumentException($"CenterNet.Loss: expected outputs [N, classes + 4, h, w] and targets [N, classes + 5, h, w], got {output.Shape} and {target.Shape}");
        int classes = output.Shape[1] - 4;
        var logits = output.Narrow(1, 0, classes);
        var heat = target.Narrow(1, 0, classes).Detach();
        var mask = target.Narrow(1, classes + 4, 1).Detach();
        // Normalised by the number of objects, as CenterNet: a scene with more objects is not a larger loss per object.
        double objects = Math.Max(1, mask.Sum().Item());
        var positive = heat.Ge(1).To(logits.DType);
        var p = logits.Sigmoid();
        // log p and log(1 − p) through log-sigmoid, which stays finite where p rounds to 0 or 1.
        var positiveLoss = positive * (1 - p).Square() * logits.LogSigmoid();
        var negativeLoss = (1 - positive) * (1 - heat).Square().Square() * p.Square() * logits.Neg().LogSigmoid();
        var focal = (positiveLoss + negativeLoss).Sum().Neg();
        var size = (output.Narrow(1, classes, 2) - target.Narrow(1, classes, 2).Detach()).Abs().Mul(mask).Sum();
        var offset = (output.Narrow(1, classes + 2, 2) - target.Narrow(1, classes + 2, 2).Detach()).Abs().Mul(mask).Sum();
        return (focal + 0.1 * size + offset) / objects;
    }

    /// <summary>
    /// The detections of each image of <paramref name="output"/> [N, classes + 4, h, w]: heatmap peaks scoring at least
    /// <paramref name="minScore"/> (at most <paramref name="topK"/>, see <see cref="CenterTargets.Decode"/>), then
    /// non-maximum suppression at IoU 0.5 per class for objects whose centres fall in neighbouring cells. Boxes are in
    /// the input's pixels, clipped to the <paramref name="height"/> × <paramref name="width"/> image when given.
    /// </summary>
    public static IReadOnlyList<Detection>[] Decode(Tensor output, double minScore = 0.05, int topK = 100, int? height = null, int? width = null)
    {
        if (output.Rank != 4 || output.Shape[1] < 5 || output.Shape[2] != output.Shape[3])
            throw new ArgumentException($"CenterNet.Decode: expected square outputs [N, classes + 4, h, h], got {output.Shape}");
        int n = output.Shape[0], classes = output.Shape[1] - 4, cells = output.Shape[2], plane = cells * cells;
        var values = output.To(DType.Float32).Contiguous().ToArray<float>();
        var targets = new CenterTargets(classes, cells * Stride, Stride);
        var result = new IReadOnlyList<Detection>[n];
        var heat = new float[classes * plane];
        for (int i = 0; i < n; i++)
        {
            var image = values.AsSpan(i * (classes + 4) * plane, (classes + 4) * plane);
            for (int k = 0; k < heat.Length; k++) heat[k] = 1 / (1 + MathF.Exp(-image[k]));
            var found = targets.Decode(heat, image.Slice(classes * plane, 2 * plane), image.Slice((classes + 2) * plane, 2 * plane), minScore, topK);
            var kept = Nms.Apply(found, 0.5);
            result[i] = height is int h && width is int w
                ? kept.Select(d => d with { Box = new Box(Math.Clamp(d.Box.X1, 0, w), Math.Clamp(d.Box.Y1, 0, h), Math.Clamp(d.Box.X2, 0, w), Math.Clamp(d.Box.Y2, 0, h)) })
                    .Where(d => d.Box.Area > 0).ToList()
                : kept;
        }
        return result;
    }
}
