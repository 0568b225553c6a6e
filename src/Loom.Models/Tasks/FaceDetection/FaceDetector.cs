using Loom.Memory;

namespace Loom.Models;

/// <summary>How <see cref="FaceDetector"/> searches a picture.</summary>
/// <param name="Threshold">Lowest face probability of a window kept.</param>
/// <param name="MinFace">Side in pixels of the smallest face looked for (at least the 25-pixel window).</param>
/// <param name="MaxFace">Side of the largest face looked for; null: the picture's shorter side.</param>
/// <param name="ScaleStep">Ratio of one pyramid level's face size to the next.</param>
/// <param name="NmsIoU">Overlap above which the weaker of two face boxes is dropped.</param>
/// <param name="MinNeighbours">
/// Other windows above the threshold that a kept box must overlap by more than <paramref name="NmsIoU"/> (as the
/// Haar cascade's minNeighbors): a face scores high at several neighbouring positions and scales, a chance texture
/// often at one or two only.
/// </param>
public sealed record FaceSearch(double Threshold = 0.9, int MinFace = 25, int? MaxFace = null, double ScaleStep = 1.2, double NmsIoU = 0.3, int MinNeighbours = 4)
{
    public void Validate()
    {
        if (!(Threshold > 0 && Threshold < 1)) throw new ArgumentException($"--threshold must be in (0, 1), got {Threshold}");
        if (MinFace < LfwSubset.Side) throw new ArgumentException($"--min-face must be at least the {LfwSubset.Side}-pixel window, got {MinFace}");
        if (MaxFace is int max && max < MinFace) throw new ArgumentException($"--max-face must be at least --min-face ({MinFace}), got {max}");
        if (!(ScaleStep > 1 && ScaleStep <= 2)) throw new ArgumentException($"--scale-step must be in (1, 2], got {ScaleStep}");
        if (!(NmsIoU > 0 && NmsIoU <= 1)) throw new ArgumentException($"--nms must be in (0, 1], got {NmsIoU}");
        if (MinNeighbours is < 0 or > 1000) throw new ArgumentException($"--min-neighbours must be between 0 and 1000, got {MinNeighbours}");
    }
}

/// <summary>
/// A face detector from a face/non-face window classifier (`loom train --data lfw-faces --model face-fcn`): the
/// classifier runs fully convolutionally over an image pyramid (each level the picture shrunk so that a face of the
/// level's size fills the 25-pixel window; windows 4 pixels apart on the level), every window whose face probability
/// reaches the threshold becomes a box in the picture's pixels, and non-maximum suppression keeps the best of
/// overlapping boxes. `loom faces detect` draws them; `loom faces mine` keeps the windows themselves as hard negatives.
/// </summary>
public sealed class FaceDetector
{
    /// <summary>The distance between neighbouring windows on a pyramid level: the classifier's two 2×2 poolings.</summary>
    public const int Stride = 4;

    private readonly Sequential _model;
    private readonly int _faceClass;

    public FaceDetector(Sequential model, int faceClass)
    {
        (_model, _faceClass) = (model, faceClass);
        _model.Eval();
    }

    /// <summary>The classifier of a run trained with `--model face-fcn` on 25×25 windows with a class named "face".</summary>
    public static FaceDetector Load(RunFolder folder, string verb, bool best = false)
    {
        var config = TrainedWeights.ReadConfig(folder, ClassificationTask.TaskName, verb);
        if (config.Model != ModelZoo.FaceWindowNet)
            throw new InvalidDataException($"{folder.Path}: loom {verb} needs a run of --model {ModelZoo.FaceWindowNet} (a window classifier that slides over pictures); this run is --model {config.Model}");
        string classesPath = folder.File(ClassNamesFile.Name);
        var classes = File.Exists(classesPath) ? ClassNamesFile.Read(classesPath) : throw new InvalidDataException($"{folder.Path}: no {ClassNamesFile.Name}: the run does not say which class is the face");
        int face = Array.IndexOf(classes, "face");
        if (face < 0) throw new InvalidDataException($"{folder.Path}: the run's classes ({string.Join(", ", classes)}) have none named 'face'; train it on --data {LfwSubset.Name}");
        var model = ModelZoo.WindowClassifier((1, LfwSubset.Side, LfwSubset.Side), classes.Length);
        TrainedWeights.Load(model, folder, best);
        return new FaceDetector(model, face);
    }

    /// <summary>The faces in a grey picture [H, W] in [0, 1], best first, after non-maximum suppression.</summary>
    public IReadOnlyList<Detection> Detect(float[] pixels, int height, int width, FaceSearch search) =>
        Group([.. Windows(pixels, height, width, search).Select(w => w.Detection)], search.NmsIoU, search.MinNeighbours);

    /// <summary>
    /// Non-maximum suppression of the windows above the threshold, keeping only boxes that overlap at least
    /// <paramref name="minNeighbours"/> other such windows by more than <paramref name="nmsIoU"/>; best first.
    /// </summary>
    public static IReadOnlyList<Detection> Group(IReadOnlyList<Detection> windows, double nmsIoU, int minNeighbours)
    {
        var kept = Nms.Apply(windows, nmsIoU);
        return minNeighbours == 0 ? kept : [.. kept.Where(k => windows.Count(w => Box.IoU(w.Box, k.Box) > nmsIoU) - 1 >= minNeighbours)];
    }

    /// <summary>Reads an image file (PNG, JPEG…) as grey and detects its faces.</summary>
    public IReadOnlyList<Detection> Detect(string imagePath, FaceSearch search)
    {
        var (pixels, h, w) = ReadGrey(imagePath);
        return Detect(pixels, h, w, search);
    }

    /// <summary>
    /// Every window of every pyramid level whose face probability reaches the threshold, before suppression, with
    /// the 25×25 pixels the classifier saw: on a photo without faces these are hard negatives to train on.
    /// </summary>
    public IReadOnlyList<(Detection Detection, float[] Window)> Windows(float[] pixels, int height, int width, FaceSearch search)
    {
        search.Validate();
        if (pixels.Length != height * width) throw new ArgumentException($"FaceDetector: {pixels.Length} pixels for a {height}×{width} picture");
        const int side = LfwSubset.Side;
        var found = new List<(Detection, float[])>();
        int largest = Math.Min(search.MaxFace ?? int.MaxValue, Math.Min(height, width));
        for (double face = search.MinFace; face <= largest; face *= search.ScaleStep)
        {
            double scale = side / face;
            int h = (int)Math.Round(height * scale), w = (int)Math.Round(width * scale);
            if (h < side || w < side) break;
            var level = GreyImage.Resize(pixels, height, width, h, w);
            var (probabilities, _, columns) = FaceMap(level, h, w);
            // The classifier's poolings drop a window's last pixels, so the map may hold a row or column of windows
            // that would run past the picture: those are no windows of the picture.
            for (int i = 0; i <= (h - side) / Stride; i++)
                for (int j = 0; j <= (w - side) / Stride; j++)
                {
                    float p = probabilities[i * columns + j];
                    if (p < search.Threshold) continue;
                    int top = i * Stride, left = j * Stride;
                    var box = new Box(left / scale, top / scale, (left + side) / scale, (top + side) / scale);
                    found.Add((new Detection(box, 0, p), GreyImage.Crop(level, w, top, left, side, side)));
                }
        }
        return found;
    }

    /// <summary>
    /// The face probability of every window of a grey picture [H, W], windows <see cref="Stride"/> pixels apart from
    /// the top-left corner: one pass of the classifier without its final flattening.
    /// </summary>
    public (float[] Probabilities, int Rows, int Columns) FaceMap(float[] pixels, int height, int width)
    {
        using var noGrad = new NoGrad();
        using var scope = new MemoryScope();
        var x = Tensor.FromArray(pixels, 1, 1, height, width);
        for (int layer = 0; layer < _model.Count - 1; layer++) x = _model[layer].Forward(x);
        var p = x.Softmax(1);
        int rows = p.Shape[2], columns = p.Shape[3];
        var all = p.ToArray<float>();
        return (all.AsSpan(_faceClass * rows * columns, rows * columns).ToArray(), rows, columns);
    }

    public static (float[] Pixels, int Height, int Width) ReadGrey(string imagePath)
    {
        var image = ImageReader.Read(imagePath, channels: 1);
        return (image.ToArray<float>(), image.Shape[1], image.Shape[2]);
    }
}
