namespace Loom.Models;

/// <summary>
/// <see cref="CenterNet"/>'s wider variant (`--model centernet-wide`): the same output (heatmap logits, size and offset
/// at stride 4, read by <see cref="CenterNet.Loss"/> and <see cref="CenterNet.Decode"/>) from a residual backbone with
/// a coarser level for context. Stem to stride 4 (1 → 32 → 64 channels), two ResNet basic blocks of 64 channels at
/// stride 4, two of 96 at stride 8; the stride-8 features are upsampled (nearest) back to stride 4, projected by a 1×1
/// convolution and added to the stride-4 ones (a feature-pyramid top-down step), then a 3×3 convolution merges them.
/// </summary>
/// <remarks>
/// Why: the small detector's breakdown (docs/notes/vision.md) loses most AP on objects covered by another object and on
/// small ones; both are classification, not boxes. Reading a digit through another needs more channels and more
/// context than 48 channels at stride 4; the stride-8 level sees about 100 pixels around each cell at a quarter of the
/// cost of seeing it at stride 4, and the sum keeps stride 4's resolution for close centres. About three times the
/// small detector's arithmetic per scene.
/// </remarks>
public sealed class WideCenterNet : Module<Tensor, Tensor>
{
    public const int Fine = 64, Coarse = 96;

    public WideCenterNet(int classes, int inChannels = 1)
    {
        if (classes < 1 || inChannels < 1) throw new ArgumentException($"WideCenterNet: needs at least one class and input channel, got {classes}, {inChannels}");
        Classes = classes;
        InChannels = inChannels;
        Stem = RegisterModule("stem", new Sequential(CenterNet.ConvBn(inChannels, 32, stride: 2), CenterNet.ConvBn(32, Fine, stride: 2)));
        Stride4 = RegisterModule("layer1", new Sequential(new BasicBlock(Fine, Fine), new BasicBlock(Fine, Fine)));
        Stride8 = RegisterModule("layer2", new Sequential(new BasicBlock(Fine, Coarse, stride: 2), new BasicBlock(Coarse, Coarse)));
        Lateral = RegisterModule("lateral", new Conv2d(Coarse, Fine, 1, bias: false));
        Upsample = RegisterModule("upsample", new Upsample(scaleFactor: [2, 2]));
        Merge = RegisterModule("merge", CenterNet.ConvBn(Fine, Fine));
        Head = RegisterModule("head", new Sequential(new Conv2d(Fine, Fine, 3, padding: 1), new ReLU()));
        Heat = RegisterModule("heat", new Conv2d(Fine, classes, 1));
        Box = RegisterModule("box", new Conv2d(Fine, 4, 1));
        CenterNet.Initialize(this, Heat, Box);
    }

    public int Classes { get; }
    public int InChannels { get; }
    public Sequential Stem { get; }
    public Sequential Stride4 { get; }
    public Sequential Stride8 { get; }
    public Conv2d Lateral { get; }
    public Upsample Upsample { get; }
    public Sequential Merge { get; }
    public Sequential Head { get; }
    public Conv2d Heat { get; }
    public Conv2d Box { get; }

    protected override Tensor ForwardCore(Tensor input)
    {
        CenterNet.CheckInput("WideCenterNet", input, InChannels);
        // Stride 8 needs sides that are multiples of 8 to upsample back onto the stride-4 grid.
        if (input.Shape[2] % 8 != 0 || input.Shape[3] % 8 != 0)
            throw new ArgumentException($"WideCenterNet: expected H and W multiples of 8 (a stride-8 level), got shape {input.Shape}");
        var fine = Stride4.Forward(Stem.Forward(input));
        var coarse = Upsample.Forward(Lateral.Forward(Stride8.Forward(fine)));
        return CenterNet.Output(Head.Forward(Merge.Forward(fine + coarse)), Heat, Box);
    }
}
