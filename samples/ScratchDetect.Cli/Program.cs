using System.CommandLine;
using ScratchDetect.Cli;

// The `scratchdetect` command. Each sub-command lives in its own file under Commands/ and
// exposes a static Create(); this file only assembles them.
var root = new RootCommand("ScratchDetect: a from-scratch object-detection engine (Faster R-CNN, SSD300) in C#.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
return root.Parse(args).Invoke();
