using ScratchDetect.Cli;

// The `scratchdetect` command. Each sub-command lives in its own file under Commands/ and
// exposes a static Create(); CommandCatalog assembles and runs them, and turns user errors into
// one line and exit status 2 (Support/ErrorHandler.cs).
return CommandCatalog.Run(args);
