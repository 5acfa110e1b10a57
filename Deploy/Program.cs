return await Deploy.Cli.DeployCommandLine.InvokeAsync(args);
