namespace Loom.Cli.Commands;

/// <summary>`loom detect RUN IMAGE -o out.png`: the objects a detection run finds in a picture, as CSV lines and as boxes drawn on it.</summary>
internal static class DetectCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train --data digit-scenes (or fashion-scenes)" };
        var image = new Argument<string>("image") { Description = "a picture (PNG, JPEG…) with objects about 14–40 pixels tall" };
        var output = new Option<string?>("--output", "-o") { Description = "write the picture with boxes, classes and scores to this PNG" };
        var threshold = new Option<double>("--threshold") { Description = "lowest score of a detection reported", DefaultValueFactory = _ => 0.3 };
        var best = new Option<bool>("--best") { Description = "use the run's best.safetensors (lowest validation loss)" };
        var threads = new Option<int>("--threads") { Description = "threads for kernels", DefaultValueFactory = _ => 1 };
        var force = new Option<bool>("--force") { Description = "overwrite -o's file if it exists" };
        var command = new Command("detect", "Find objects in a picture with a detection run: prints class, score and box per object, draws them with -o") { run, image, output, threshold, best, threads, force };
        command.SetAction(parse =>
        {
            if (parse.GetValue(threads) < 1) throw new UserErrorException($"--threads must be at least 1, got {parse.GetValue(threads)}");
            Loom.Threads.Count = parse.GetValue(threads);
            string runFolder = RunOptions.ExistingRun(parse.GetValue(run)!), path = parse.GetValue(image)!;
            if (!File.Exists(path)) throw new UserErrorException($"image '{path}' does not exist");
            var png = parse.GetValue(output) is { } drawn ? OutputFile.Check(drawn, "-o", parse.GetValue(force), [path], runFolder) : null;
            var detector = Detector.Load(new RunFolder(runFolder), parse.GetValue(best));
            var (objects, inverted) = detector.Detect(path, parse.GetValue(threshold));
            var writer = console.Profile.Out.Writer;
            writer.WriteLine("class,score,x1,y1,x2,y2");
            foreach (var o in objects)
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{detector.Classes[o.Class]},{o.Score:F3},{o.Box.X1:F1},{o.Box.Y1:F1},{o.Box.X2:F1},{o.Box.Y2:F1}"));
            if (inverted) Console.Error.WriteLine("note: the picture is mostly light, so it was inverted (the detector learnt bright objects on a dark ground)");
            if (png is not null)
            {
                OutputFile.Write(png, temp => detector.Draw(path, objects, temp));
                Console.Error.WriteLine($"{objects.Count} object{(objects.Count == 1 ? "" : "s")} drawn to {parse.GetValue(output)}");
            }
            return 0;
        });
        return command;
    }
}
