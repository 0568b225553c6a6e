namespace Loom.Cli.Commands;

/// <summary>`loom eval RUN [--data …]`: the test metrics of a trained run, on its own test split or on other data, and the task's tables.</summary>
internal static class EvalCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var best = new Option<bool>("--best") { Description = "use best.safetensors (lowest validation loss) instead of the final model" };
        var run = new RunOptions(console, "evaluate on all of this labelled data (or, for data that comes split, its test part) instead of the run's test split");
        var command = run.Command("eval", "Evaluate a trained run on its test split or on other data", best);
        command.SetAction(parse =>
        {
            var trained = run.Load(parse, parse.GetValue(best));
            var test = trained.Evaluate();
            var table = new Table().Title($"{Markup.Escape(trained.Config.Model!)} on {Markup.Escape(trained.Data.Description)}").AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
            table.AddRow("loss", $"{test.Loss:F4}");
            foreach (var (k, v) in test.Metrics) table.AddRow(k, $"{v:F4}");
            table.AddRow("samples", test.Samples.ToString());
            console.Write(table);
            foreach (var section in test.Tables)
            {
                var t = new Table().Title(Markup.Escape(section.Title)).AddColumns(section.Columns.Select(Markup.Escape).ToArray());
                foreach (var row in section.Rows) t.AddRow(row.Select(c => Markup.Escape(c.Format("F3"))).ToArray());
                console.Write(t);
            }
            return 0;
        });
        return command;
    }
}
