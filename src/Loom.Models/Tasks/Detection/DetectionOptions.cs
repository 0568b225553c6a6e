namespace Loom.Models;

/// <summary>The options of <see cref="DetectionTask"/>, stored in config.json beside the shared ones.</summary>
public sealed record DetectionOptions
{
    /// <summary>Training scenes composed per epoch (a validation share of them is held out).</summary>
    public int Scenes { get; init; } = 20000;

    /// <summary>Held-out scenes composed from test-split crops only, scored for mAP.</summary>
    public int TestScenes { get; init; } = 1000;

    /// <summary>Side of the square scene in pixels, a multiple of the detector's stride (4).</summary>
    public int Canvas { get; init; } = 96;

    /// <summary>Least share of each object's height and width that stays on the canvas when the border cuts it (0: 4 pixels, as before session 22).</summary>
    public double VisibleShare { get; init; } = 0.5;

    private static readonly DetectionOptions Defaults = new();

    public static IReadOnlyList<TaskOption> Declared { get; } =
    [
        TaskOption.Integer("--scenes", "scenes", "training scenes composed per epoch (detection)", Defaults.Scenes),
        TaskOption.Integer("--test-scenes", "test_scenes", "test scenes composed from test-split crops only (detection)", Defaults.TestScenes),
        TaskOption.Integer("--canvas", "canvas", "side of a composed scene in pixels, a multiple of 4 (detection)", Defaults.Canvas),
        TaskOption.Number("--visible-share", "visible_share", "least share of an object's height and width left on the canvas by the border (detection)", Defaults.VisibleShare),
    ];

    public void Validate()
    {
        if (Scenes is < 2 or > 10_000_000) throw new ArgumentException($"--scenes must be between 2 and 10000000, got {Scenes}");
        if (TestScenes is < 1 or > 1_000_000) throw new ArgumentException($"--test-scenes must be between 1 and 1000000, got {TestScenes}");
        if (Canvas is < 32 or > 1024 || Canvas % CenterNet.Stride != 0)
            throw new ArgumentException($"--canvas must be a multiple of {CenterNet.Stride} between 32 and 1024, got {Canvas}");
        if (!(VisibleShare >= 0 && VisibleShare <= 1)) throw new ArgumentException($"--visible-share must be between 0 and 1, got {VisibleShare}");
    }

    /// <summary>Object heights: 14–40 px on the 96 px canvas, in proportion on others.</summary>
    public (int Min, int Max) ObjectHeights => (Math.Max(SceneComposer.MinVisible + 2, 14 * Canvas / 96), Math.Max(SceneComposer.MinVisible + 4, 40 * Canvas / 96));
}
