using Pipeline.Cli;

return await PipelineCommandLine.Create().Parse(args).InvokeAsync();
