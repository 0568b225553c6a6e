namespace Loom.Models;

/// <summary>
/// Small keyword-spotting networks over log-mel features [1, bands, frames] (a one-channel image of frequency × time),
/// sized to classify a one-second clip in about a millisecond on one core.
/// </summary>
public static class KeywordModels
{
    public const string Cnn = "kws-cnn", DepthwiseSeparable = "kws-dscnn";

    public static IReadOnlyDictionary<string, string> Descriptions { get; } = new Dictionary<string, string>
    {
        [Cnn] = "keyword spotting CNN over log-mel: three Conv(3×3)–BatchNorm–ReLU–MaxPool blocks (16, 32, 64 channels), Linear(128), Linear(classes)",
        [DepthwiseSeparable] = "keyword spotting DS-CNN (Hello Edge): Conv(10×4, stride 2) then four depthwise 3×3 + pointwise 1×1 blocks of 64 channels, global average pool, Linear(classes)",
    };

    /// <summary>Model <paramref name="name"/> for features of <paramref name="bands"/> × <paramref name="frames"/>.</summary>
    public static Sequential Create(string name, int bands, int frames, int classes, double dropout = 0.1) => name switch
    {
        Cnn => CreateCnn(bands, frames, classes, dropout),
        DepthwiseSeparable => CreateDsCnn(classes, dropout),
        _ => throw new ArgumentException($"unknown keyword-spotting model '{name}'; choose {Cnn} or {DepthwiseSeparable}"),
    };

    public static Sequential CreateCnn(int bands, int frames, int classes, double dropout)
    {
        int h = bands / 8, w = frames / 8;
        if (h < 1 || w < 1) throw new ArgumentException($"{Cnn} needs at least 8 × 8 features, got {bands} bands × {frames} frames");
        return new Sequential(
            new Conv2d(1, 16, 3, padding: 1), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
            new Conv2d(16, 32, 3, padding: 1), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dropout(dropout),
            new Linear(64 * h * w, 128), new ReLU(),
            new Linear(128, classes));
    }

    /// <remarks>
    /// Zhang et al., "Hello Edge: Keyword Spotting on Microcontrollers" (2017): a depthwise 3×3 convolution per channel
    /// (groups = channels) then a pointwise 1×1 mixing channels costs about a ninth of a full 3×3 convolution.
    /// </remarks>
    public static Sequential CreateDsCnn(int classes, double dropout)
    {
        const int c = 64;
        var layers = new List<Module<Tensor, Tensor>>
        {
            new Conv2d(1, c, (10, 4), stride: (2, 2), padding: (5, 1)), new BatchNorm2d(c), new ReLU(),
        };
        for (int i = 0; i < 4; i++)
        {
            layers.AddRange([new Conv2d(c, c, 3, padding: 1, groups: c), new BatchNorm2d(c), new ReLU()]);
            layers.AddRange([new Conv2d(c, c, 1), new BatchNorm2d(c), new ReLU()]);
        }
        layers.AddRange([new AdaptiveAvgPool2d(1), new Flatten(), new Dropout(dropout), new Linear(c, classes)]);
        return new Sequential([.. layers]);
    }
}
