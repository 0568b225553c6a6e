namespace Loom.Cli.Tests;

public sealed class LfwFacesFactAttribute() : InstalledDataFactAttribute(FaceDetectionCommandTests.Lfw);

/// <summary>
/// `loom cv`/`loom train --data lfw-faces --model face-fcn`, then `loom faces detect` and `loom faces mine` on a real
/// photo (scikit-image's astronaut): plumbing and errors on a run of a few steps, not the detector's quality.
/// </summary>
public sealed class FaceDetectionCommandTests
{
    private const string Astronaut = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

    public static readonly InstalledData Lfw = new("scikit-image's LFW subset and astronaut", "apt-get install python3-skimage", LfwSubset.DefaultPath, Astronaut);

    [LfwFacesFact]
    public void A_window_classifier_run_detects_draws_and_mines_faces_in_a_photo()
    {
        Lfw.Require();
        using var temp = new TempFolder();
        var photo = temp.File("wall.png");
        Models.Detector.WriteGrey(Enumerable.Range(0, 60 * 80).Select(i => i % 7 / 7f).ToArray(), 60, 80, photo);
        CliRunner.Succeed("train", "--data", "lfw-faces", "--model", "face-fcn", "--epochs", "1", "--max-steps", "3", "--negatives", photo, "--threads", "2", "--output", temp.File("runs"));
        var run = CliRunner.RunFolderUnder(temp.File("runs"));

        var png = temp.File("faces.png");
        var detect = CliRunner.Succeed("faces", "detect", run, Astronaut, "--threshold", "0.01", "--min-face", "100", "-o", png);
        Assert.Equal("image,score,x1,y1,x2,y2", detect.Lines[0]);
        Assert.True(detect.Lines.Length > 1, "a threshold of 0.01 keeps some window of an untrained classifier");
        foreach (var line in detect.Lines.Skip(1))
        {
            var f = line.Split(',');
            Assert.Equal(Astronaut, f[0]);
            double x1 = double.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture), x2 = double.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(x1, 0, 512 - 100);
            Assert.InRange(x2 - x1, 100 - 1e-6, 512 + 1e-6);
        }
        Assert.Equal(new Shape(3, 512, 512), ImageReader.Read(png).Shape);

        var mined = temp.File("hard.npy");
        CliRunner.Succeed("faces", "mine", run, photo, "--threshold", "0.01", "-o", mined);
        Assert.Equal(25, NpyReader.Read(mined).Shape[2]);

        CliRunner.Fail(["faces", "detect", run, Astronaut, photo, "-o", png], "-o draws one picture");
        CliRunner.Fail(["faces", "detect", run, temp.File("nobody.png")], "nobody.png", "does not exist");
        CliRunner.Fail(["faces", "detect", run, Astronaut, "--min-face", "10"], "--min-face", "25");
        CliRunner.Succeed("train", "--data", "lfw-faces", "--model", "cnn", "--epochs", "1", "--max-steps", "1", "--threads", "2", "--output", temp.File("cnn"));
        CliRunner.Fail(["faces", "detect", CliRunner.RunFolderUnder(temp.File("cnn")), Astronaut], "face-fcn");
        CliRunner.Fail(["train", "--data", "digits", "--negatives", photo, "--epochs", "1"], "--negatives", "lfw-faces");
    }
}
