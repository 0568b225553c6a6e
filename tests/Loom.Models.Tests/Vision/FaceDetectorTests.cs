using Loom.Nn;

namespace Loom.Models.Tests.Vision;

/// <summary>The window classifier as a sliding window, the detector's pyramid geometry, area resizing and the negatives it trains on.</summary>
public sealed class FaceDetectorTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static Sequential Classifier()
    {
        Generator.ManualSeed(7);
        var model = ModelZoo.WindowClassifier((1, LfwSubset.Side, LfwSubset.Side), 2);
        // Batch norm with other statistics than 0 and 1, so that the eval-mode affine map is exercised too.
        model.Train();
        using (new Autograd.NoGrad())
            for (int i = 0; i < 3; i++) model.Forward(Tensor.Rand(new Shape(8, 1, 25, 25)));
        model.Eval();
        return model;
    }

    private static float[] Picture(int height, int width, ulong seed)
    {
        var g = new Generator(seed);
        return Enumerable.Range(0, height * width).Select(_ => g.NextFloat()).ToArray();
    }

    [Fact]
    public void The_classifier_run_over_a_picture_scores_each_window_as_if_cut_out()
    {
        var model = Classifier();
        var detector = new FaceDetector(model, LfwSubset.Face);
        const int h = 41, w = 45;
        var pixels = Picture(h, w, 3);
        var (map, _, columns) = detector.FaceMap(pixels, h, w);
        for (int i = 0; i <= (h - 25) / FaceDetector.Stride; i++)
            for (int j = 0; j <= (w - 25) / FaceDetector.Stride; j++)
            {
                var window = GreyImage.Crop(pixels, w, i * FaceDetector.Stride, j * FaceDetector.Stride, 25, 25);
                using var noGrad = new Autograd.NoGrad();
                var logits = model.Forward(Tensor.FromArray(window, 1, 1, 25, 25)).ToArray<float>();
                double face = 1 / (1 + Math.Exp(logits[0] - logits[1]));
                Assert.Equal(face, map[i * columns + j], 4);
            }
    }

    [Fact]
    public void Every_window_of_every_pyramid_level_maps_to_its_box_in_the_picture()
    {
        var detector = new FaceDetector(Classifier(), LfwSubset.Face);
        var pixels = Picture(50, 50, 5);
        // Faces of 25 (the picture as it is) and 50 pixels (the picture halved to one window); the next, 100, is too big.
        var windows = detector.Windows(pixels, 50, 50, new FaceSearch(Threshold: 1e-9, ScaleStep: 2));
        Assert.Equal(7 * 7 + 1, windows.Count);
        var boxes = windows.Select(x => x.Detection.Box).ToHashSet();
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 7; j++)
                Assert.Contains(new Box(4 * j, 4 * i, 4 * j + 25, 4 * i + 25), boxes);
        Assert.Contains(new Box(0, 0, 50, 50), boxes);
        var first = windows.Single(x => x.Detection.Box == new Box(4, 8, 29, 33));
        Assert.Equal(GreyImage.Crop(pixels, 50, 8, 4, 25, 25), first.Window);
        var whole = windows.Single(x => x.Detection.Box == new Box(0, 0, 50, 50));
        Assert.Equal(GreyImage.Resize(pixels, 50, 50, 25, 25), whole.Window);
        // Suppression keeps fewer boxes, best first.
        var kept = detector.Detect(pixels, 50, 50, new FaceSearch(Threshold: 1e-9, ScaleStep: 2, MinNeighbours: 0));
        Assert.InRange(kept.Count, 1, windows.Count - 1);
        Assert.Equal(windows.Max(x => x.Detection.Score), kept[0].Score);
    }

    [Fact]
    public void Min_neighbours_keeps_boxes_that_several_overlapping_windows_agree_on()
    {
        // A face found at three neighbouring windows (IoU 0.72 and 0.43 with the best, 0.61 with each other) and a lone window elsewhere.
        Detection[] windows =
        [
            new(new Box(0, 0, 25, 25), 0, 0.97), new(new Box(4, 0, 29, 25), 0, 0.95), new(new Box(10, 0, 35, 25), 0, 0.93),
            new(new Box(100, 100, 125, 125), 0, 0.99),
        ];
        // Plain suppression at 0.3 keeps the lone window and the face's best, which suppresses the other two.
        Assert.Equal([windows[3], windows[0]], FaceDetector.Group(windows, 0.3, 0));
        // The face's best overlaps two other windows by more than 0.3, the lone window none.
        Assert.Equal([windows[0]], FaceDetector.Group(windows, 0.3, 2));
        Assert.Empty(FaceDetector.Group(windows, 0.3, 3));
        // At 0.5 the window two steps away (0.43) survives suppression; it and the best each have one neighbour above 0.5.
        Assert.Equal([windows[0], windows[2]], FaceDetector.Group(windows, 0.5, 1));
        Assert.Empty(FaceDetector.Group(windows, 0.5, 2));
    }

    [Fact]
    public void Search_settings_out_of_range_are_named()
    {
        TensorAssert.Throws<ArgumentException>(() => new FaceSearch(MinNeighbours: -1).Validate(), "--min-neighbours");
        TensorAssert.Throws<ArgumentException>(() => new FaceSearch(Threshold: 1).Validate(), "--threshold");
        TensorAssert.Throws<ArgumentException>(() => new FaceSearch(MinFace: 20).Validate(), "--min-face", "25");
        TensorAssert.Throws<ArgumentException>(() => new FaceSearch(MinFace: 40, MaxFace: 30).Validate(), "--max-face");
        TensorAssert.Throws<ArgumentException>(() => new FaceSearch(ScaleStep: 1).Validate(), "--scale-step");
    }

    [Fact]
    public void Area_resizing_averages_what_each_output_pixel_covers()
    {
        float[] four = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        Assert.Equal(new[] { 3.5f, 5.5f, 11.5f, 13.5f }, GreyImage.Resize(four, 4, 4, 2, 2));
        Assert.Equal(four, GreyImage.Resize(four, 4, 4, 4, 4));
        // 3 → 2 along a row: the outputs cover [0, 1.5) and [1.5, 3): (1·1 + 0.5·2)/1.5 and (0.5·2 + 1·3)/1.5.
        Assert.Equal(new[] { 4 / 3f, 8 / 3f }, GreyImage.Resize([1, 2, 3], 1, 3, 1, 2), new FloatComparer(1e-6f));
    }

    [Fact]
    public void Negatives_join_the_training_split_as_non_faces_and_the_faces_are_repeated_to_a_third()
    {
        var photo = _temp.File("wall.png");
        Detector.WriteGrey(Picture(60, 80, 9), 60, 80, photo);
        var windows = _temp.File("hard.npy");
        NpyWriter.Write(windows, Tensor.Full(new Shape(30, 25, 25), 0.25f, DType.Float32));
        var train = new TensorDataset(Tensor.Zeros(new Shape(10, 1, 25, 25)), Tensor.FromArray(new long[] { 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 }));
        var grown = FaceWindows.WithNegatives(train, [photo, windows], seed: 1);
        int nonFaces = 8 + FaceWindows.WindowsPerPhoto + 30;
        var labels = grown.Targets.ToArray<long>();
        Assert.Equal(nonFaces, labels.Count(v => v == LfwSubset.NonFace));
        Assert.Equal(2 * (nonFaces / 4), labels.Count(v => v == LfwSubset.Face));
        Assert.Equal(0.25f, grown.Inputs.ToArray<float>()[^1]);
        NpyWriter.Write(windows, Tensor.Full(new Shape(3, 24, 24), 0.25f, DType.Float32));
        TensorAssert.Throws<InvalidDataException>(() => FaceWindows.WithNegatives(train, [windows], 1), windows, "(N, 25, 25)");
    }

    private sealed class FloatComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;

        public int GetHashCode(float v) => 0;
    }
}
