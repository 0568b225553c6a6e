using Loom.Onnx;

namespace Loom.Cli.Commands;

/// <summary>`loom export RUN --onnx FILE`: the run's model as ONNX, traced on two of its test samples, with a symbolic batch.</summary>
internal static class ExportCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var onnx = new Option<string>("--onnx") { Description = "the ONNX file to write", Required = true };
        var best = new Option<bool>("--best") { Description = "export best.safetensors (lowest validation loss) instead of the final model" };
        var force = new Option<bool>("--force") { Description = "overwrite --onnx's file if it exists" };
        var run = new RunOptions(console, "trace on a sample of this data instead of the run's test split");
        var command = run.Command("export", "Export a trained run's model to ONNX (opset 17, dynamic batch, and sequence for token ids)", onnx, best, force);
        command.SetAction(parse =>
        {
            string path = OutputFile.Check(parse.GetValue(onnx)!, "--onnx", parse.GetValue(force), [parse.GetValue(run.Data)], run.Folder(parse).Path);
            var trained = run.Load(parse, parse.GetValue(best));
            // Two samples, so that the trace tells the batch axis from a dimension that happens to be 1.
            var example = Pipeline.Batches(trained.Data.Test, 2).First().Inputs;
            // Token ids [B, T]: texts and language-model windows come in any length, so the sequence axis is symbolic too.
            bool tokens = example.DType == DType.Int64 && example.Rank == 2;
            var options = tokens ? new OnnxExportOptions { DynamicAxes = new Dictionary<int, string> { [0] = "batch", [1] = "sequence" } } : new OnnxExportOptions();
            try
            {
                OutputFile.Write(path, temp => OnnxExport.Save(trained.Model, example, temp, options));
            }
            catch (OnnxException e)
            {
                throw new UserErrorException($"{trained.Config.Model}: {e.Message}");
            }
            console.WriteOneLine($"wrote {parse.GetValue(onnx)}: {trained.Config.Model}, input [batch, {(tokens ? "sequence" : string.Join(", ", example.Shape.Dims[1..].ToArray()))}] {example.DType.Name()}, {new FileInfo(path).Length:N0} bytes");
            return 0;
        });
        return command;
    }
}
