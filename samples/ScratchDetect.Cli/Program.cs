using ScratchDetect.Cli;

// The `scratchdetect` command. Each sub-command lives in its own file under Commands/ and
// exposes a static Create(); CommandCatalog assembles them.
return CommandCatalog.CreateRoot().Parse(args).Invoke();
