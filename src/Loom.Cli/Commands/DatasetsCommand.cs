using System.CommandLine;
using Loom.Data;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>`loom datasets`: the built-in datasets, their size, source, licence and availability here.</summary>
internal static class DatasetsCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var command = new Command("datasets", "List the built-in datasets and whether this machine has them");
        command.SetAction(_ =>
        {
            var table = new Table().AddColumns("name", "train", "test", "input", "classes", "available");
            var list = BuiltinDatasets.List();
            foreach (var d in list)
                table.AddRow(Markup.Escape(d.Name), d.TrainCount.ToString("N0"), d.TestCount.ToString("N0"), Markup.Escape(new Shape(d.InputShape).ToString()),
                    d.ClassNames.Count.ToString(), d.IsAvailable ? "[green]yes[/]" : "[red]no[/]");
            console.Write(table);
            foreach (var d in list)
                console.MarkupLine($"[bold]{Markup.Escape(d.Name)}[/]: {Markup.Escape(d.Source)}; licence {Markup.Escape(d.Licence)}; read from {Markup.Escape(d.Location)}");
            return 0;
        });
        return command;
    }
}
