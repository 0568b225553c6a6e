namespace Loom.Models;

/// <summary>
/// The shape of a <see cref="ResNet"/>: stem, stage widths and blocks per stage. Every stage after the first halves the
/// spatial size (stride 2 in its first block).
/// </summary>
/// <param name="Widths">Channels of each stage.</param>
/// <param name="Blocks">Basic blocks per stage.</param>
/// <param name="ImageNetStem">ImageNet's stem (7×7 stride-2 convolution, then 3×3 stride-2 max pooling) for large
/// images; otherwise a 3×3 stride-1 convolution, which keeps the detail of a 28×28 or 32×32 image.</param>
public sealed record ResNetConfig(int[] Widths, int[] Blocks, bool ImageNetStem)
{
    /// <summary>For 28×28 and 32×32 images: three stages of 16, 32 and 64 channels with two blocks each (28 → 14 → 7), 14 layers.</summary>
    public static ResNetConfig Mini { get; } = new([16, 32, 64], [2, 2, 2], ImageNetStem: false);

    /// <summary>ResNet-18 as in He et al. 2016 and torchvision: 7×7 stem and max pooling, four stages of 64–512 channels, two blocks each.</summary>
    public static ResNetConfig ResNet18 { get; } = new([64, 128, 256, 512], [2, 2, 2, 2], ImageNetStem: true);

    /// <summary>
    /// The same layout with every stage's channels times <paramref name="factor"/> (rounded half away from zero, at least
    /// 1): a narrower copy of the network, whose parameters scale about as the factor squared (a distillation student).
    /// </summary>
    public ResNetConfig Scaled(double factor)
    {
        if (!(factor > 0) || !double.IsFinite(factor)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "ResNet: the width factor must be positive");
        return this with { Widths = [.. Widths.Select(w => WidthFactor.Scale(w, factor))] };
    }
}

/// <summary>
/// A residual network of basic blocks (He et al. 2016): stem, stages of <see cref="BasicBlock"/>s, global average pooling
/// and one linear layer. Parameter names follow torchvision's (conv1, bn1, layer1.0.conv1, layer2.0.downsample.0, fc).
/// </summary>
/// <remarks>
/// Initialisation as torchvision's: convolutions Kaiming-normal for ReLU with fan-out, batch norms one and zero, except
/// the last batch norm of each block, which starts at zero, so every block starts as the identity and a deep network
/// trains like a shallow one at first (Goyal et al. 2017, torchvision's zero_init_residual). Input [N, C, H, W] →
/// logits [N, classes].
/// </remarks>
public sealed class ResNet : Module<Tensor, Tensor>
{
    public ResNet(ResNetConfig config, int inChannels, int classes)
    {
        if (config.Widths.Length == 0 || config.Widths.Length != config.Blocks.Length || config.Widths.Any(w => w < 1) || config.Blocks.Any(b => b < 1))
            throw new ArgumentException("ResNet: give one positive width and one positive block count per stage");
        if (inChannels < 1 || classes < 1) throw new ArgumentException($"ResNet: needs at least one input channel and one class, got {inChannels} and {classes}");
        Config = config;
        int width = config.Widths[0];
        Conv1 = RegisterModule("conv1", config.ImageNetStem
            ? new Conv2d(inChannels, width, 7, stride: 2, padding: 3, bias: false)
            : new Conv2d(inChannels, width, 3, padding: 1, bias: false));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(width));
        if (config.ImageNetStem) MaxPool = RegisterModule("maxpool", new MaxPool2d(3, 2, padding: 1));
        var stages = new List<Sequential>();
        for (int s = 0; s < config.Widths.Length; s++)
        {
            int stride = s == 0 ? 1 : 2, outWidth = config.Widths[s];
            var blocks = new List<Module<Tensor, Tensor>>();
            for (int b = 0; b < config.Blocks[s]; b++)
            {
                blocks.Add(new BasicBlock(width, outWidth, b == 0 ? stride : 1));
                width = outWidth;
            }
            stages.Add(RegisterModule($"layer{s + 1}", new Sequential([.. blocks])));
        }
        Stages = stages;
        Pool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        Fc = RegisterModule("fc", new Linear(width, classes));
        Initialize();
    }

    public ResNetConfig Config { get; }
    public Conv2d Conv1 { get; }
    public BatchNormBase Bn1 { get; private set; }
    public MaxPool2d? MaxPool { get; }
    public IReadOnlyList<Sequential> Stages { get; }
    public AdaptiveAvgPool2d Pool { get; }
    public Linear Fc { get; }

    // Only the batch norms can be swapped (for SyncBatchNorm, or a frozen copy): the other children are called as
    // their own types, and the stages are Sequentials, which take swaps themselves.
    protected override void OnChildReplacing(string name, Module current, Module replacement)
    {
        if (name == "bn1") Bn1 = Replacement(this, name, current, replacement);
        else base.OnChildReplacing(name, current, replacement);
    }

    internal static BatchNormBase Replacement(Module parent, string name, Module current, Module replacement) =>
        replacement is BatchNormBase norm && norm.NumFeatures == ((BatchNormBase)current).NumFeatures
            ? norm
            : throw new NotSupportedException($"{parent.GetType().Name}: '{name}' can only be replaced by a batch norm of {((BatchNormBase)current).NumFeatures} channels, not {replacement.GetType().Name}");

    private void Initialize()
    {
        using var noGrad = new NoGrad();
        foreach (var module in Modules())
        {
            if (module is Conv2d conv) Init.KaimingNormal(conv.Weight, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
        }
    }

    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank != 4 || input.Shape[1] != Conv1.InChannels)
            throw new ArgumentException($"ResNet: expected images [N, {Conv1.InChannels}, H, W], got shape {input.Shape}");
        var x = Bn1.Forward(Conv1.Forward(input), Activation.Relu);
        if (MaxPool is not null) x = MaxPool.Forward(x);
        foreach (var stage in Stages) x = stage.Forward(x);
        return Fc.Forward(Pool.Forward(x).Flatten(1));
    }
}

/// <summary>
/// Two 3×3 convolutions with batch norm, added to the input (through a 1×1 strided convolution and batch norm when the
/// shape changes), then ReLU: y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). bn2's scale starts at zero,
/// so a new block computes relu(shortcut(x)) (see <see cref="ResNet"/>).
/// </summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    public BasicBlock(int inChannels, int outChannels, int stride = 1)
    {
        Conv1 = RegisterModule("conv1", new Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(outChannels));
        Conv2 = RegisterModule("conv2", new Conv2d(outChannels, outChannels, 3, padding: 1, bias: false));
        Bn2 = RegisterModule("bn2", new BatchNorm2d(outChannels));
        using (new NoGrad()) Init.Zeros(Bn2.Weight!);
        if (stride != 1 || inChannels != outChannels)
            Downsample = RegisterModule("downsample", new Sequential(new Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), new BatchNorm2d(outChannels)));
    }

    public Conv2d Conv1 { get; }
    public BatchNormBase Bn1 { get; private set; }
    public Conv2d Conv2 { get; }
    public BatchNormBase Bn2 { get; private set; }
    public Sequential? Downsample { get; }

    protected override void OnChildReplacing(string name, Module current, Module replacement)
    {
        switch (name)
        {
            case "bn1": Bn1 = ResNet.Replacement(this, name, current, replacement); break;
            case "bn2": Bn2 = ResNet.Replacement(this, name, current, replacement); break;
            default: base.OnChildReplacing(name, current, replacement); break;
        }
    }

    protected override Tensor ForwardCore(Tensor input)
    {
        var y = Bn2.Forward(Conv2.Forward(Bn1.Forward(Conv1.Forward(input), Activation.Relu)));
        var shortcut = Downsample is null ? input : Downsample.Forward(input);
        return y.Add(shortcut).Relu();
    }
}
