namespace Loom.Cli.Commands;

/// <summary>
/// `loom faces verify RUN a.png b.png` and `loom faces pairs RUN FOLDER`: a face-verification run on pictures;
/// `loom faces detect RUN PHOTO… [-o out.png]` and `loom faces mine RUN PHOTO… -o windows.npy`: a face/non-face window
/// classifier (--model face-fcn on lfw-faces) as a detector.
/// </summary>
internal static class FacesCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var command = new Command("faces", "Use a face-verification run (loom train --task face-verification) or a face detector (loom train --data lfw-faces --model face-fcn)");
        command.Subcommands.Add(Verify(console));
        command.Subcommands.Add(Pairs(console));
        command.Subcommands.Add(Detect(console));
        command.Subcommands.Add(Mine(console));
        return command;
    }

    private static Command Verify(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train --task face-verification" };
        var first = new Argument<string>("first") { Description = "a picture (PNG, JPEG…)" };
        var second = new Argument<string>("second") { Description = "another picture" };
        var score = ScoreOption();
        var cohort = CohortOption();
        var command = new Command("verify", "Print the score of two pictures' embeddings (cosine or AS-norm) and whether they are the same identity at the run's threshold") { run, first, second, score, cohort };
        command.SetAction(parse =>
        {
            var verifier = LoadVerifier(parse, run, score, cohort, "faces verify");
            foreach (var image in new[] { parse.GetValue(first)!, parse.GetValue(second)! })
                if (!File.Exists(image)) throw new UserErrorException($"image '{image}' does not exist");
            var (similarity, same) = verifier.Verify(parse.GetValue(first)!, parse.GetValue(second)!);
            console.Profile.Out.Writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"similarity {similarity:F4}: {(same ? "same" : "different")} (threshold {verifier.Threshold:F4}, the run's equal-error-rate threshold; {verifier.Decision.Describe()})"));
            return 0;
        });
        return command;
    }

    private static Command Pairs(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train --task face-verification" };
        var folder = new Argument<string>("folder") { Description = "an LFW-format folder: one folder of Name_0001.jpg… per person, and pairs.txt" };
        var score = ScoreOption();
        var cohort = CohortOption();
        var command = new Command("pairs", "Score a run on an LFW-format folder's pairs.txt: equal error rate, TAR at FAR 1e-2, accuracy at the run's threshold") { run, folder, score, cohort };
        command.SetAction(parse =>
        {
            var verifier = LoadVerifier(parse, run, score, cohort, "faces pairs");
            var (pairs, eer, tar, accuracy) = verifier.Evaluate(parse.GetValue(folder)!);
            var w = console.Profile.Out.Writer;
            w.WriteLine("pairs,eer,tar_at_far_1e-2,accuracy,threshold");
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{pairs},{eer:F4},{tar:F4},{accuracy:F4},{verifier.Threshold:F4}"));
            return 0;
        });
        return command;
    }

    private static Option<string?> ScoreOption() =>
        new("--score-norm") { Description = "pair score: cosine, or asnorm (normalised against the run's cohort of training images); default: the one the run was evaluated with" };

    private static Option<string?> CohortOption() =>
        new("--cohort") { Description = "a folder of unlabelled images of the population verified (never the pictures scored): AS-norm against them, at the K and threshold the run chose on its held-out classes' in-domain cohort" };

    private static FaceVerifier LoadVerifier(ParseResult parse, Argument<string> run, Option<string?> score, Option<string?> cohort, string verb)
    {
        var choice = parse.GetValue(score);
        if (choice is not null && !VerificationDecision.Scores.Contains(choice)) throw new UserErrorException($"--score-norm must be cosine or asnorm, got '{choice}'");
        return FaceVerifier.Load(new RunFolder(RunOptions.ExistingRun(parse.GetValue(run)!)), verb, choice, parse.GetValue(cohort));
    }

    // The search options detect and mine share.
    private sealed class SearchOptions
    {
        public Option<double> Threshold { get; } = new("--threshold") { Description = "lowest face probability of a window", DefaultValueFactory = _ => new FaceSearch().Threshold };
        public Option<int> MinFace { get; } = new("--min-face") { Description = "side in pixels of the smallest face looked for (at least 25)", DefaultValueFactory = _ => new FaceSearch().MinFace };
        public Option<int?> MaxFace { get; } = new("--max-face") { Description = "side in pixels of the largest face looked for (default: the picture's shorter side)" };
        public Option<double> ScaleStep { get; } = new("--scale-step") { Description = "ratio of one pyramid level's face size to the next", DefaultValueFactory = _ => new FaceSearch().ScaleStep };
        public Option<int> MinNeighbours { get; } = new("--min-neighbours") { Description = "other windows above the threshold a face box must overlap (as the Haar cascade's minNeighbors)", DefaultValueFactory = _ => new FaceSearch().MinNeighbours };
        public Option<bool> Best { get; } = new("--best") { Description = "use the run's best.safetensors (lowest validation loss)" };
        public Option<int> Threads { get; } = new("--threads") { Description = "threads for kernels", DefaultValueFactory = _ => 1 };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Threshold, MinFace, MaxFace, ScaleStep, MinNeighbours, Best, Threads }) command.Options.Add(option);
        }

        public (FaceDetector Detector, FaceSearch Search) Read(ParseResult parse, string run, string verb)
        {
            if (parse.GetValue(Threads) < 1) throw new UserErrorException($"--threads must be at least 1, got {parse.GetValue(Threads)}");
            var search = new FaceSearch(parse.GetValue(Threshold), parse.GetValue(MinFace), parse.GetValue(MaxFace), parse.GetValue(ScaleStep), MinNeighbours: parse.GetValue(MinNeighbours));
            search.Validate();
            Loom.Threads.Count = parse.GetValue(Threads);
            return (FaceDetector.Load(new RunFolder(RunOptions.ExistingRun(run)), verb, parse.GetValue(Best)), search);
        }
    }

    private static void CheckImages(IEnumerable<string> images)
    {
        foreach (var image in images)
            if (!File.Exists(image)) throw new UserErrorException($"image '{image}' does not exist");
    }

    private static Command Detect(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train --data lfw-faces --model face-fcn" };
        var images = new Argument<string[]>("images") { Description = "pictures (PNG, JPEG…)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--output", "-o") { Description = "write the picture with the face boxes and scores to this PNG (one picture only)" };
        var force = new Option<bool>("--force") { Description = "overwrite -o's file if it exists" };
        var search = new SearchOptions();
        var command = new Command("detect", "Find faces in pictures: prints image, score and box per face; draws them with -o") { run, images, output, force };
        search.AddTo(command);
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(images)!;
            if (parse.GetValue(output) is not null && paths.Length != 1) throw new UserErrorException($"-o draws one picture; {paths.Length} were given");
            CheckImages(paths);
            var png = parse.GetValue(output) is { } o ? OutputFile.Check(o, "-o", parse.GetValue(force), paths, RunOptions.ExistingRun(parse.GetValue(run)!)) : null;
            var (detector, settings) = search.Read(parse, parse.GetValue(run)!, "faces detect");
            var writer = console.Profile.Out.Writer;
            writer.WriteLine("image,score,x1,y1,x2,y2");
            foreach (var path in paths)
            {
                var faces = detector.Detect(path, settings);
                foreach (var f in faces)
                    writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{path},{f.Score:F3},{f.Box.X1:F1},{f.Box.Y1:F1},{f.Box.X2:F1},{f.Box.Y2:F1}"));
                if (png is not null)
                {
                    OutputFile.Write(png, temp => Detector.Draw(path, faces, ["face"], temp));
                    Console.Error.WriteLine($"{faces.Count} face{(faces.Count == 1 ? "" : "s")} drawn to {parse.GetValue(output)}");
                }
            }
            return 0;
        });
        return command;
    }

    private static Command Mine(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train --data lfw-faces --model face-fcn" };
        var images = new Argument<string[]>("images") { Description = "pictures WITHOUT faces: every window taken for a face is a false alarm", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "the .npy file of windows [N, 25, 25] to write (train on it with --negatives)", Required = true };
        var force = new Option<bool>("--force") { Description = "overwrite -o's file if it exists" };
        var search = new SearchOptions();
        var command = new Command("mine", "Hard negatives: the windows of face-free pictures that the detector takes for faces, as an .npy array for --negatives") { run, images, output, force };
        search.AddTo(command);
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(images)!;
            CheckImages(paths);
            var npy = OutputFile.Check(parse.GetValue(output)!, "-o", parse.GetValue(force), paths, RunOptions.ExistingRun(parse.GetValue(run)!));
            var (detector, settings) = search.Read(parse, parse.GetValue(run)!, "faces mine");
            var windows = new List<float[]>();
            foreach (var path in paths)
            {
                var (pixels, h, w) = FaceDetector.ReadGrey(path);
                var found = detector.Windows(pixels, h, w, settings);
                windows.AddRange(found.Select(f => f.Window));
                console.Profile.Out.Writer.WriteLine($"{path}: {found.Count} false-alarm windows");
            }
            const int side = Loom.Data.LfwSubset.Side;
            var array = Tensor.FromArray(windows.SelectMany(w => w).ToArray(), windows.Count, side, side);
            OutputFile.Write(npy, temp => Loom.Data.NpyWriter.Write(temp, array));
            console.Profile.Out.Writer.WriteLine($"{windows.Count} windows written to {parse.GetValue(output)}");
            return 0;
        });
        return command;
    }
}
