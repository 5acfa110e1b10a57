using Pipeline.EndToEnd.Benchmarks;

return await EndToEndOptions.Command().Parse(args).InvokeAsync();
