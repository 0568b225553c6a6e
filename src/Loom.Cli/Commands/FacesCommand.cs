using System.CommandLine;
using System.Globalization;
using Loom.Models;
using Loom.Train;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>`loom faces verify RUN a.png b.png` and `loom faces pairs RUN FOLDER`: a face-verification run on pictures.</summary>
internal static class FacesCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var command = new Command("faces", "Use a face-verification run (loom train --task face-verification): verify two pictures, or score an LFW-format folder");
        command.Subcommands.Add(Verify(console));
        command.Subcommands.Add(Pairs(console));
        return command;
    }

    private static Command Verify(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train --task face-verification" };
        var first = new Argument<string>("first") { Description = "a picture (PNG, JPEG…)" };
        var second = new Argument<string>("second") { Description = "another picture" };
        var command = new Command("verify", "Print the cosine similarity of two pictures' embeddings and whether they are the same identity at the run's threshold") { run, first, second };
        command.SetAction(parse =>
        {
            var verifier = FaceVerifier.Load(new RunFolder(RunOptions.ExistingRun(parse.GetValue(run)!)), "faces verify");
            foreach (var image in new[] { parse.GetValue(first)!, parse.GetValue(second)! })
                if (!File.Exists(image)) throw new UserErrorException($"image '{image}' does not exist");
            var (similarity, same) = verifier.Verify(parse.GetValue(first)!, parse.GetValue(second)!);
            console.Profile.Out.Writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"similarity {similarity:F4}: {(same ? "same" : "different")} (threshold {verifier.Threshold:F4}, the run's equal-error-rate threshold)"));
            return 0;
        });
        return command;
    }

    private static Command Pairs(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train --task face-verification" };
        var folder = new Argument<string>("folder") { Description = "an LFW-format folder: one folder of Name_0001.jpg… per person, and pairs.txt" };
        var command = new Command("pairs", "Score a run on an LFW-format folder's pairs.txt: equal error rate, TAR at FAR 1e-2, accuracy at the run's threshold") { run, folder };
        command.SetAction(parse =>
        {
            var verifier = FaceVerifier.Load(new RunFolder(RunOptions.ExistingRun(parse.GetValue(run)!)), "faces pairs");
            var (pairs, eer, tar, accuracy) = verifier.Evaluate(parse.GetValue(folder)!);
            var w = console.Profile.Out.Writer;
            w.WriteLine("pairs,eer,tar_at_far_1e-2,accuracy,threshold");
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{pairs},{eer:F4},{tar:F4},{accuracy:F4},{verifier.Threshold:F4}"));
            return 0;
        });
        return command;
    }
}
