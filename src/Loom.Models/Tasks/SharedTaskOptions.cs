namespace Loom.Models;

/// <summary>
/// The options several tasks take under one name. The CLI makes one command-line option per name, so each is
/// declared once here, with one description that says where the tasks differ; a task passes its own default, and
/// the help lists the defaults per task. A task checks the value's range in its own Validate (the ranges differ).
/// </summary>
public static class SharedTaskOptions
{
    /// <summary>--target, the label column (classification, text classification).</summary>
    public static TaskOption Target(string? defaultText = null) =>
        TaskOption.Text("--target", "target", "label column of a CSV file", defaultText);

    /// <summary>--text-column (language model, text classification).</summary>
    public static TaskOption TextColumn(string? defaultText = null) =>
        TaskOption.Text("--text-column", "text_column",
            "the text column of a CSV file, by header name (text classification: or by number from 0 in a file without a header)", defaultText);

    /// <summary>--test-fraction; <paramref name="defaultValue"/> is the task's.</summary>
    public static TaskOption TestFraction(double defaultValue) =>
        TaskOption.Number("--test-fraction", "test_fraction",
            "share of the data held out for testing: the end of the text (language model), whole source packages (summarization), stratified rows (text classification; 0 keeps every row for loom cv)",
            defaultValue);

    /// <summary>--vocab-size; <paramref name="defaultValue"/> is the task's.</summary>
    public static TaskOption VocabSize(int defaultValue) =>
        TaskOption.Integer("--vocab-size", "vocab_size",
            "vocabulary size: tokens of a trained BPE vocabulary (language model, translation) or the most frequent training words (summarization)", defaultValue);

    /// <summary>--min-count; <paramref name="defaultValue"/> is the task's.</summary>
    public static TaskOption MinCount(int defaultValue) =>
        TaskOption.Integer("--min-count", "min_count", "training words seen fewer times are unknown words", defaultValue);

    /// <summary>--max-length; <paramref name="defaultValue"/> is the task's.</summary>
    public static TaskOption MaxLength(int defaultValue) =>
        TaskOption.Integer("--max-length", "max_length",
            "longest text: words of a text the classifier reads, the rest cut off (text classification); tokens of a training pair's side, longer pairs left out (translation)",
            defaultValue);

    /// <summary>--dim, the model width; <paramref name="defaultValue"/> is the task's.</summary>
    public static TaskOption Dim(int defaultValue) =>
        TaskOption.Integer("--dim", "dim", "model width (embeddings, attention, recurrent states)", defaultValue);

    /// <summary>--layers of a sequence-to-sequence model; <paramref name="defaultValue"/> is the task's.</summary>
    public static TaskOption Layers(int defaultValue) =>
        TaskOption.Integer("--layers", "layers", "encoder layers, and as many decoder layers", defaultValue);

    /// <summary>--beam; <paramref name="defaultValue"/> is the task's.</summary>
    public static TaskOption Beam(int defaultValue) =>
        TaskOption.Integer("--beam", "beam", "hypotheses kept by beam search (1: greedy only)", defaultValue);

    /// <summary>--length-penalty; <paramref name="defaultValue"/> is the task's.</summary>
    public static TaskOption LengthPenalty(double defaultValue) =>
        TaskOption.Number("--length-penalty", "length_penalty", "α of the GNMT length penalty in beam search (0: raw log-probability)", defaultValue);

    /// <summary>--share-layers (language model, text classification).</summary>
    public static TaskOption ShareLayers() =>
        TaskOption.Flag("--share-layers", "share_layers", "transformer and GPT: one layer's parameters reused by every layer (ALBERT cross-layer sharing)");

    /// <summary>--quick: a run of seconds.</summary>
    public static TaskOption Quick() =>
        TaskOption.Flag("--quick", "quick", "small models on a slice of the data (text classification: texts cut to 64 words): a run of seconds, for tests");

    /// <summary>--augment, training-image augmentations of <see cref="ImageAugmentation.Names"/>.</summary>
    public static TaskOption Augment() =>
        TaskOption.List("--augment", "augment",
            "augment training images, comma-separated: crop (shift by up to 1/8 of the size, zero-padded), flip (left-right; not for digits or text), erase (random rectangle), jitter (small rotation, shift and scale), light (random contrast and brightness)");
}
