namespace Loom.Models;

/// <summary>The options of <see cref="ClassificationTask"/>, stored in config.json beside the shared ones.</summary>
public sealed record ClassificationOptions
{
    /// <summary>The label column, for CSV data.</summary>
    public string? Target { get; init; }

    /// <summary>CSV columns read as categories (one-hot encoded) whatever their values look like: codes written as numbers, or a mostly numeric column the reader would refuse.</summary>
    public string[] Categorical { get; init; } = [];

    /// <summary>CSV columns left out of the features: identifiers, free text, columns that leak the target.</summary>
    public string[] Ignore { get; init; } = [];

    /// <summary>Hidden width of the MLP.</summary>
    public int Hidden { get; init; } = 256;

    /// <summary>
    /// Factor on the channel (and hidden) widths of the CNN or resnet-mini (0.5: half the channels in every layer, about a
    /// quarter of the parameters): a narrower copy of the same architecture, the natural student for distilling a trained
    /// one; null (1) is left out of config.json.
    /// </summary>
    public double? Width { get; init; }

    /// <summary>(height, width) images from an image folder are resized to.</summary>
    public int[] ImageSize { get; init; } = [28, 28];

    /// <summary>1 (grayscale) or 3 (RGB) for image folders.</summary>
    public int ImageChannels { get; init; } = 1;

    /// <summary>Training-image augmentations, of <see cref="ImageAugmentation.Names"/> (crop, flip, erase); null (none) is left out of config.json.</summary>
    public string[]? Augment { get; init; }

    /// <summary>ε of the cross-entropy's label smoothing (training, validation and test losses alike); null (0) is left out of config.json.</summary>
    public double? LabelSmoothing { get; init; }

    /// <summary>
    /// For lfw-faces: photos without faces and .npy arrays of windows whose windows join the training split as
    /// non-faces (a detector's negatives); null (none) is left out of config.json.
    /// </summary>
    public string[]? Negatives { get; init; }

    /// <summary>Model "onnx" (written by `loom import --out`): the imported ONNX file the classifier's features come from.</summary>
    public string? OnnxModel { get; init; }

    /// <summary>[C, H, W] the imported network reads (images are resized and their channels repeated to it); null: the samples' own shape.</summary>
    public int[]? OnnxInput { get; init; }

    /// <summary>Factor on the inputs before the imported network (CNTK's ResNet18 reads pixels in 0–255); null: 1.</summary>
    public double? OnnxScale { get; init; }

    /// <summary>
    /// Per-channel values subtracted after <see cref="OnnxScale"/>, as the network was trained to read its inputs (CNTK's
    /// ResNet18: ML.NET's preprocessing subtracts a mean image of per-channel means 103.1, 115.9, 123.2); null: none.
    /// </summary>
    public double[]? OnnxMean { get; init; }

    /// <summary>Whether training updates the imported network as well as the new head (null: the head only).</summary>
    public bool? OnnxTrainAll { get; init; }

    private static readonly ClassificationOptions Defaults = new();

    /// <summary>Their command-line form; those of <see cref="SharedTaskOptions"/> are shared with other tasks.</summary>
    public static IReadOnlyList<TaskOption> Declared { get; } =
    [
        SharedTaskOptions.Target(),
        TaskOption.List("--categorical", "categorical", "CSV columns to read as categories, comma-separated (codes written as numbers, or a mostly numeric column with text in it)"),
        TaskOption.List("--ignore", "ignore", "CSV columns to leave out of the features, comma-separated (identifiers, free text)"),
        TaskOption.Integer("--hidden", "hidden", "hidden width of the MLP", Defaults.Hidden),
        TaskOption.Number("--width", "width", "cnn and resnet-mini only: factor on every layer's channels (and the cnn's hidden units; 0.5 ≈ a quarter of the parameters)", 1),
        TaskOption.Size("--image-size", "image_size", "HEIGHTxWIDTH images of an image folder are resized to", Defaults.ImageSize),
        TaskOption.Integer("--channels", "image_channels", "1 (grayscale) or 3 (RGB) for image folders", Defaults.ImageChannels),
        SharedTaskOptions.Augment(),
        TaskOption.List("--negatives", "negatives", "lfw-faces only: more non-face training windows, comma-separated: photos without faces (random windows of every size) or .npy arrays of 25×25 windows (loom faces mine)"),
        TaskOption.Number("--label-smoothing", "label_smoothing", "label smoothing ε of the loss", 0),
    ];

    /// <summary>Checks every value; the message names the option.</summary>
    public void Validate()
    {
        // A config.json may hold null where the command line cannot give one.
        if (Categorical is null || Categorical.Any(string.IsNullOrEmpty)) throw new ArgumentException("--categorical must be a list of column names");
        if (Ignore is null || Ignore.Any(string.IsNullOrEmpty)) throw new ArgumentException("--ignore must be a list of column names");
        if (Target is not null && Ignore.Contains(Target)) throw new ArgumentException($"--ignore {Target}: that is the --target column, which is never a feature");
        if (Hidden < 1) throw new ArgumentException($"--hidden must be at least 1, got {Hidden}");
        if (Width is double width && !(width > 0 && width <= 8)) throw new ArgumentException($"--width must be in (0, 8], got {width}");
        if (ImageSize is not [> 0, > 0]) throw new ArgumentException("--image-size must be HEIGHTxWIDTH with positive sizes");
        if (Augment is not null && Augment.Any(a => !ImageAugmentation.Names.Contains(a)))
            throw new ArgumentException($"--augment takes {string.Join(", ", ImageAugmentation.Names)}, comma-separated; got {string.Join(",", Augment)}");
        if (LabelSmoothing is double e && !(e >= 0 && e < 1)) throw new ArgumentException($"--label-smoothing must be in [0, 1), got {LabelSmoothing}");
        if (Negatives is not null && Negatives.Any(string.IsNullOrEmpty)) throw new ArgumentException("--negatives must be a list of photos or .npy files");
        if (OnnxInput is not null && (OnnxInput.Length is not (1 or 3) || OnnxInput.Any(d => d < 1)))
            throw new ArgumentException($"onnx_input must be [C, H, W] or [features] with positive sizes, got [{string.Join(", ", OnnxInput)}]");
        if (OnnxScale is double scale && !double.IsFinite(scale)) throw new ArgumentException($"onnx_scale must be finite, got {scale}");
        if (OnnxMean is not null && (OnnxMean.Length == 0 || OnnxMean.Any(m => !double.IsFinite(m))))
            throw new ArgumentException($"onnx_mean must be finite per-channel values, got [{string.Join(", ", OnnxMean)}]");
        if (ImageChannels is not (1 or 3)) throw new ArgumentException($"--channels must be 1 or 3, got {ImageChannels}");
    }
}
