using System.CommandLine;
using ScratchDetect.Cli.Support;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Cli.Commands;

/// <summary>
/// `scratchdetect convert IN.pth OUT.safetensors`: a PyTorch checkpoint (zip or legacy format) to
/// safetensors, same names, same values. Only the globals a state dict needs are accepted; a file
/// naming any other (code to run) is refused, and nothing from it is executed.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("IN.pth") { Description = "PyTorch checkpoint written by torch.save (a state dict; or a dict holding one under 'model' or 'state_dict')" };
        var output = new Argument<FileInfo>("OUT.safetensors") { Description = "Safetensors file to write; an existing one is replaced only by a complete one" };
        var command = new Command("convert", "Convert a PyTorch .pth checkpoint to safetensors, refusing anything but tensors.");
        command.Arguments.Add(input);
        command.Arguments.Add(output);
        command.SetAction(parseResult =>
        {
            // Both paths are checked before the (possibly large) checkpoint is read.
            string from = UserPaths.InputFile(parseResult.GetValue(input)!.FullName, "IN.pth");
            string to = UserPaths.OutputFile(parseResult.GetValue(output)!.FullName, "OUT.safetensors", [from]);
            // A damaged or refused checkpoint throws InvalidDataException naming the file; the top-level handler reports it.
            var tensors = PyTorchCheckpoint.Load(from);
            SafeTensors.Save(to, tensors);
            Console.WriteLine($"wrote {tensors.Count} tensors ({tensors.Values.Sum(t => t.Numel):N0} values) from {from} to {to}");
            return 0;
        });
        return command;
    }
}
