namespace Loom.Cli.Commands;

/// <summary>
/// `loom distill --teacher RUN --model SMALLER [--temperature T] [--alpha A] [--mixup]` and any `loom train` option: trains the
/// smaller model on the teacher run's data with α·T²·KL(teacher_T ‖ student_T) + (1 − α)·CE (Hinton et al. 2015) into a
/// new run folder that eval and predict take like any run. The teacher runs in eval mode once per distinct sample
/// (<see cref="TeacherCache"/>). With --mixup every training batch is mixed (<see cref="Mixup"/>) and the teacher scores
/// the mixed batch (function matching); --alpha 0 --mixup is the student trained alone with the same mixup on its labels.
/// --hint-weight W adds W × the FitNets hint (<see cref="FeatureHint"/>) between the features the two models' last Linear
/// layers read; its regressor trains with the student and is not saved with it. The teacher may be an ensemble run
/// (`loom ensemble`): its soft targets are the mean of its members' softmax(z / T), and with `loom ensemble --out-of-fold`
/// the mean of the members that did not train on the sample (cross-fitted soft targets). config.json records the teacher (with a
/// hash of its weights) and these settings, so `loom distill --resume RUN` continues a stopped run as it started.
/// </summary>
internal static class DistillCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var options = new TrainingOptions();
        var teacher = new Option<string?>("--teacher") { Description = "the trained run whose model teaches (its data is the student's); required unless --resume" };
        var temperature = new Option<double>("--temperature") { Description = "softmax temperature of the soft targets", DefaultValueFactory = _ => 4 };
        var alpha = new Option<double>("--alpha") { Description = "weight of the soft-target term (1 − alpha on the labels)", DefaultValueFactory = _ => 0.9 };
        var mixup = new Option<bool>("--mixup") { Description = "mix each training batch with a shuffled copy of itself (λ uniform in [0, 1]); the teacher scores the mixed batch, the labels mix alike" };
        var hintWeight = new Option<double>("--hint-weight")
        {
            Description = "weight of the FitNets hint: the features the student's last Linear layer reads, through a trained linear regressor, match the teacher's in mean squared error (0: none)",
            DefaultValueFactory = _ => 0,
        };
        var resume = new Option<string?>("--resume")
        {
            Description = "continue the distillation in this run folder from its last checkpoint, with the teacher and settings its config.json recorded (with more --epochs if given)",
        };
        var command = options.Command("distill", "Train a smaller model (--model) from a trained run's model (--teacher) by knowledge distillation, into a new run folder",
            teacher, temperature, alpha, mixup, hintWeight, resume);
        command.SetAction(parse =>
        {
            if (parse.GetValue(resume) is { } runPath)
            {
                // The teacher and the loss are the run's: another value would continue a different distillation.
                var given = new Option[] { teacher, temperature, alpha, mixup, hintWeight }.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
                if (given.Count > 0)
                    throw new UserErrorException($"--resume continues the distillation as its config.json set it up: {string.Join(", ", given)} cannot change it");
                var folder = new RunFolder(RunOptions.ExistingRun(runPath));
                var saved = Pipeline.ReadConfig(folder);
                var settings = Checked(saved.Distillation
                    ?? throw new UserErrorException($"{folder.Path} is not a loom distill run (its config.json has no \"distillation\"); continue it with loom train --resume {folder.Path}"));
                if (string.IsNullOrEmpty(settings.Teacher) || string.IsNullOrEmpty(settings.TeacherSha256))
                    throw new UserErrorException($"{folder.ConfigPath}: \"distillation\" lacks \"teacher\" or \"teacher_sha256\"; without them the run cannot resume");
                var config = options.ForResume(parse, saved);
                var trained = LoadTeacher(settings.Teacher, config.Threads, settings.TeacherSha256).Run;
                if (TrainingOptions.ScheduleChangeNote(saved, config) is { } note) console.WriteOneLine(note);
                return Run(console, config, folder, trained, resume: true);
            }
            var teacherPath = parse.GetValue(teacher)
                ?? throw new UserErrorException("--teacher RUN is required: the trained run whose model teaches (or --resume RUN to continue a distillation)");
            var recipe = Checked(new DistillationConfig("", "", parse.GetValue(temperature), parse.GetValue(alpha), parse.GetValue(mixup), parse.GetValue(hintWeight)));
            var (teacherRun, teacherFolder, sha) = LoadTeacher(teacherPath, parse.GetValue(options.Threads), expectedSha256: null);
            var fresh = options.Resolve(parse, c => c with
            {
                Data = teacherRun.Config.Data,
                Task = teacherRun.Config.Task,
                Distillation = recipe with { Teacher = Path.GetFullPath(teacherFolder), TeacherSha256 = sha },
            }).Config;
            return options.InNewRunFolder(parse, $"{Path.GetFileNameWithoutExtension(fresh.Data)}-{fresh.Model}-distilled",
                folder => Run(console, fresh, folder, teacherRun, resume: false), folder => File.Exists(folder.CheckpointPath));
        });
        return command;
    }

    /// <summary>The settings, checked: given on the command line or read back from a run's config.json.</summary>
    private static DistillationConfig Checked(DistillationConfig settings)
    {
        var (t, a, hint) = (settings.Temperature, settings.Alpha, settings.HintWeight);
        if (!(t > 0) || !double.IsFinite(t)) throw new UserErrorException($"--temperature must be positive, got {t}");
        if (!(a >= 0 && a <= 1)) throw new UserErrorException($"--alpha must be in [0, 1], got {a}");
        if (!(hint >= 0) || !double.IsFinite(hint)) throw new UserErrorException($"--hint-weight must be 0 or more, got {hint}");
        return settings;
    }

    /// <summary>
    /// The teacher run, its folder and the SHA-256 of its weights. With <paramref name="expectedSha256"/> (a resume), a
    /// teacher that is gone or whose weights changed since the run started is refused: the student would go on
    /// learning from another model.
    /// </summary>
    private static (TrainedRun Run, string Folder, string Sha256) LoadTeacher(string path, int threads, string? expectedSha256)
    {
        if (expectedSha256 is not null && !Directory.Exists(path))
            throw new UserErrorException($"the teacher run {path} that config.json names is gone; the distillation cannot resume without it");
        var folder = new RunFolder(RunOptions.ExistingRun(path));
        // An ensemble holds no weights: its config.json names each member's by SHA-256 (checked whenever it loads), so
        // that file stands for the teacher's weights.
        bool ensemble = Pipeline.ReadConfig(folder).Ensemble is not null;
        if (!ensemble && !File.Exists(folder.ModelPath)) throw new UserErrorException($"the teacher run {folder.Path} has no model.safetensors (it has not finished training)");
        var sha = Ensembles.Sha256(ensemble ? folder.ConfigPath : folder.ModelPath);
        // Before loading: changed weights may not even load into the recorded model, and the change is the news.
        if (expectedSha256 is not null && sha != expectedSha256)
            throw new UserErrorException($"the teacher {folder.Path} has changed since this run started (its {(ensemble ? "config.json (its members)" : "model.safetensors")} is not the one the student learnt from); the distillation cannot resume with it");
        var run = Pipeline.Load(folder, threads: threads);
        if (run.Config.Quantization is not null) throw new UserErrorException($"{folder.Path} is quantised; distil from the float run it came from");
        // The soft targets are one row of class logits per sample; a sequence or box model's outputs are not (a
        // language model, translation or detection teacher failed mid-training on the loss's shapes).
        if (run.Task.Name is LanguageModelTask.TaskName or TranslationTask.TaskName or SummarizationTask.TaskName or DetectionTask.TaskName)
            throw new UserErrorException($"{folder.Path} is a {run.Task.Name} run; distillation matches one row of class probabilities per sample, so the teacher is a classification, text-classification, keyword-spotting or face-verification run");
        return (run, folder.Path, sha);
    }

    private static int Run(IAnsiConsole console, TrainingConfig config, RunFolder folder, TrainedRun teacher, bool resume)
    {
        var (_, _, temperature, alpha, mix, hintWeight) = config.Distillation!;
        if (teacher.Model is Ensemble ensemble)
        {
            if (hintWeight > 0) throw new UserErrorException("--hint-weight: an ensemble teacher has no one layer of features to hint with; distil it without a hint");
            // Its soft targets are then the mean of the members' softmax(z / T), not the averaged probabilities re-softened.
            ensemble.Temperature = temperature;
        }
        // The loss sees (output, target) only: the batch's input reaches it through a pre-hook on the student.
        Tensor? input = null;
        bool inputCanRepeat = true;
        // With a hint, the teacher's features ride in the cache beside its logits: [logits | features] per sample.
        var teacherTap = hintWeight > 0 ? FeatureHint.TapPenultimate(teacher.Model) ?? throw NoLinear(teacher.Config.Model!) : null;
        var cache = new TeacherCache(x => teacherTap is null ? teacher.Model.Forward(x) : Tensor.Cat([teacher.Model.Forward(x), teacherTap.Features!.Flatten(1)], 1));
        var mixup = mix ? new Mixup(new Loom.Random.Generator(config.Seed)) : null;
        FeatureTap? studentTap = null;
        FeatureHint? hint = null;
        Tensor Loss(Tensor output, Tensor target)
        {
            if (input is null) throw new InvalidOperationException("distill: the loss ran before the student's forward");
            // α = 0 weighs the teacher's logits by 0: without a hint the student trains alone, without paying for the teacher's forwards.
            var scored = alpha == 0 && hint is null ? null : cache.Forward(input, remember: inputCanRepeat);
            int classes = output.Shape[^1];
            var soft = scored is null ? output.Detach() : hint is null ? scored : scored.Narrow(1, 0, classes);
            var loss = mixup is null
                ? Distillation.Loss(output, soft, target, temperature, alpha)
                : mixup.Loss(t => Distillation.Loss(output, soft, t, temperature, alpha), target); // the soft term does not read t
            return hint is null ? loss : loss.Add(hint.Loss(studentTap!.Features!, scored!.Narrow(1, classes, teacherTap!.Width)).Mul(hintWeight));
        }
        var progress = new ProgressDisplay(console, config.Epochs);
        // The student's own --augment: the teacher then sees each augmented view the student sees (consistent teaching,
        // Beyer et al. 2022), since its targets are computed from the batch the student gets.
        if (teacher.Data is ClassificationData) ClassificationTask.Augment(teacher.Data, config);
        bool augmented = teacher.Data is ClassificationData { Augmentation: not null };
        if (teacherTap is not null)
        {
            // The student is built here only to size the regressor; Prepare builds the one that trains, the same way.
            var student = Pipeline.CreateModel(Tasks.Resolve(config).Task, config, teacher.Data);
            var width = FeatureHint.TapPenultimate(student)?.Width ?? throw NoLinear(config.Model!);
            hint = new FeatureHint(width, teacherTap.Width, new Loom.Random.Generator(config.Seed));
        }
        // Mixup's generator and the hint's regressor are stateful callbacks: checkpoints keep them, a resume restores them.
        List<ICallback> callbacks = [progress];
        if (mixup is not null) callbacks.Add(mixup);
        if (hint is not null) callbacks.Add(hint);
        var setup = Pipeline.Prepare(config, folder, callbacks, teacher.Data, loss: Loss, lossModule: hint);
        if (hint is not null) studentTap = FeatureHint.TapPenultimate(setup.Model);
        setup.Model.RegisterForwardPreHook((student, x) =>
        {
            // A mixed or augmented training batch is new every time; validation and test batches come again each epoch.
            inputCanRepeat = !student.Training || (mixup is null && !augmented);
            // Training batches only: validation and test are scored on the images as they are.
            if (mixup is null || !student.Training)
            {
                mixup?.Clear();
                input = (Tensor)x;
                return null;
            }
            return input = mixup.Mix((Tensor)x);
        });
        progress.Throughput = setup.Data.Throughput;
        long teacherParameters = teacher.Model.ParameterCount(), studentParameters = setup.Model.ParameterCount();
        console.MarkupLine($"[bold]loom distill[/] {Markup.Escape(setup.Config.Model!)} ({studentParameters:N0} parameters) from the {Markup.Escape(teacher.Config.Model!)} " +
            $"({teacherParameters:N0} parameters, {(double)studentParameters / teacherParameters:P1}{(teacher.Model is Ensemble { TrainedOn: not null } ? ", out-of-fold targets" : "")}) on {Markup.Escape(setup.Data.Description)}, T = {temperature}, α = {alpha}{(mix ? ", mixup" : "")}" +
            (hint is null ? "" : $", hint × {hintWeight} ({studentTap!.Width} → {teacherTap!.Width} features, regressor {hint.ParameterCount():N0} parameters, not saved)") +
            (resume ? ", resuming" : ""));
        using var onSignal = new StopOnSignals(setup.Trainer);
        var result = progress.Run(() => Pipeline.Train(setup, folder, resume));
        if (result.Test is null)
        {
            var at = setup.Trainer;
            console.MarkupLine($"[yellow]stopped ({Markup.Escape(result.Fit.StopReason)})[/] at epoch {at.Epoch + 1} batch {at.BatchInEpoch} (step {at.GlobalStep}); " +
                $"checkpoint saved. Continue with: loom distill --resume {Markup.Escape(folder.Path)}");
            return result.Fit.StopReason == "terminated" ? 143 : 130;
        }
        var table = new Table().AddColumn("test metric").AddColumn(new TableColumn("value").RightAligned());
        foreach (var (k, v) in result.Test.Metrics) table.AddRow(k, $"{v:F4}");
        console.Write(table);
        console.MarkupLine($"training took {result.Fit.TrainingTime.TotalSeconds:F1} s; the teacher ran on {cache.Misses:N0} samples, " +
            $"its remembered outputs served {cache.Hits:N0} ({cache.Remembered:N0} kept)");
        console.MarkupLine($"run folder: [link]{Markup.Escape(folder.Path)}[/]");
        return 0;
    }

    private static UserErrorException NoLinear(string model) => new($"--hint-weight: the {model} has no Linear layer whose input features could carry the hint");
}
