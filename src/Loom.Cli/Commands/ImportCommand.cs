using System.CommandLine;
using Loom.Nn.Serialization;
using Loom.Onnx;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>
/// `loom import FILE [--out DIR]`: reads an ONNX model, prints its graph summary, and (with --out) writes a folder
/// with the model, its summary and its weights as safetensors under the imported module's parameter names.
/// </summary>
internal static class ImportCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var file = new Argument<string>("model") { Description = "an ONNX file" };
        var output = new Option<string?>("--out") { Description = "write model.onnx, summary.txt and model.safetensors (the weights) to this folder" };
        var command = new Command("import", "Read an ONNX model and print its graph summary") { file, output };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            OnnxModule model;
            try
            {
                model = OnnxModule.Load(path);
            }
            catch (OnnxException e)
            {
                throw new UserErrorException(e.Message);
            }
            string summary = model.Summary();
            foreach (var line in summary.Split('\n')) console.WriteOneLine(line.TrimEnd());
            if (parse.GetValue(output) is { } dir)
            {
                Directory.CreateDirectory(dir);
                File.Copy(path, Path.Combine(dir, "model.onnx"), overwrite: true);
                File.WriteAllText(Path.Combine(dir, "summary.txt"), summary + Environment.NewLine);
                SafeTensors.Save(Path.Combine(dir, "model.safetensors"), model.StateDict());
                console.WriteOneLine($"wrote {dir}: model.onnx, summary.txt, model.safetensors");
            }
            return 0;
        });
        return command;
    }
}
