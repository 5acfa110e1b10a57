using Pipeline.Cli.Benchmarks;

return await StartupBenchmark.RunAsync(args);
