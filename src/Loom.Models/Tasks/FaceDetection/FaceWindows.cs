using Loom.Random;

namespace Loom.Models;

/// <summary>
/// The windows a face detector learns from besides scikit-image's 200 crops: non-face windows cut at random from
/// photos without faces (every size, so every level of the detector's pyramid is represented), or read from .npy
/// arrays of windows (`loom faces mine` writes the windows a trained detector took for faces). The faces are repeated
/// so that they stay about a third of the training split; `--augment` makes each repeat a different face.
/// </summary>
public static class FaceWindows
{
    /// <summary>Windows cut at random from each photo given to `--negatives`.</summary>
    public const int WindowsPerPhoto = 400;

    /// <summary><paramref name="train"/> with the non-face windows of <paramref name="sources"/> added and its faces repeated.</summary>
    public static TensorDataset WithNegatives(TensorDataset train, IReadOnlyList<string> sources, ulong seed)
    {
        var generator = new Generator(seed ^ 0xFACE);
        var windows = new List<float>();
        foreach (var source in sources)
            windows.AddRange(source.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? Read(source) : RandomWindows(source, WindowsPerPhoto, generator));
        const int per = LfwSubset.Side * LfwSubset.Side;
        int added = windows.Count / per;
        var labels = train.Targets.ToArray<long>();
        var faces = Enumerable.Range(0, labels.Length).Where(i => labels[i] == LfwSubset.Face).ToArray();
        int nonFaces = labels.Length - faces.Length + added;
        int copies = faces.Length == 0 ? 0 : Math.Max(0, nonFaces / (2 * faces.Length) - 1);
        var repeated = train.Gather(Enumerable.Repeat(faces, copies).SelectMany(f => f).ToArray());
        var negatives = new TensorDataset(Tensor.FromArray(windows.ToArray(), added, 1, LfwSubset.Side, LfwSubset.Side), Tensor.FromArray(new long[added]));
        return Concat(train, repeated, negatives);
    }

    /// <summary>An .npy array of windows [N, 25, 25] or [N, 1, 25, 25] with values in [0, 1].</summary>
    public static float[] Read(string path)
    {
        var array = NpyReader.Read(path);
        var dims = array.Shape.ToArray();
        if (dims is not ([_, LfwSubset.Side, LfwSubset.Side] or [_, 1, LfwSubset.Side, LfwSubset.Side]))
            throw new InvalidDataException($"{path}: expected windows of shape (N, {LfwSubset.Side}, {LfwSubset.Side}), found {array.Shape}");
        var pixels = array.To(DType.Float32).ToArray<float>();
        if (pixels.Any(v => !(v >= 0 && v <= 1))) throw new InvalidDataException($"{path}: window pixels must lie in [0, 1]");
        return pixels;
    }

    /// <summary>
    /// <paramref name="count"/> square windows of a photo (read grey), each of a side log-uniform between the
    /// detector's window and the photo's shorter side at a uniform position, shrunk to 25×25 by area averaging.
    /// </summary>
    public static float[] RandomWindows(string photo, int count, Generator generator)
    {
        var image = ImageReader.Read(photo, channels: 1);
        int h = image.Shape[1], w = image.Shape[2];
        if (Math.Min(h, w) < LfwSubset.Side) throw new InvalidDataException($"{photo}: {w}×{h} is smaller than the {LfwSubset.Side}×{LfwSubset.Side} window");
        var pixels = image.ToArray<float>();
        var windows = new float[count * LfwSubset.Side * LfwSubset.Side];
        for (int k = 0; k < count; k++)
        {
            double logSide = Math.Log(LfwSubset.Side) + generator.NextDouble() * (Math.Log(Math.Min(h, w)) - Math.Log(LfwSubset.Side));
            int side = Math.Clamp((int)Math.Round(Math.Exp(logSide)), LfwSubset.Side, Math.Min(h, w));
            int top = generator.NextInt(0, h - side + 1), left = generator.NextInt(0, w - side + 1);
            var window = GreyImage.Resize(GreyImage.Crop(pixels, w, top, left, side, side), side, side, LfwSubset.Side, LfwSubset.Side);
            window.CopyTo(windows, k * window.Length);
        }
        return windows;
    }

    private static TensorDataset Concat(params TensorDataset[] parts)
    {
        var inputs = parts.Where(p => p.Count > 0).Select(p => p.Inputs).ToArray();
        var targets = parts.Where(p => p.Count > 0).Select(p => p.Targets).ToArray();
        return new TensorDataset(Tensor.Cat(inputs, 0), Tensor.Cat(targets, 0));
    }
}
