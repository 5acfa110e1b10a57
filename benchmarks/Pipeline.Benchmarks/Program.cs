using Pipeline.Benchmarks;

return await BenchmarkCommandLine.Create().Parse(args).InvokeAsync();
