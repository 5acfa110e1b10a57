return Deploy.DeployCommand.Run(args);
