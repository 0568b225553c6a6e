using Loom.Cli;

return LoomCommand.Run(args);
