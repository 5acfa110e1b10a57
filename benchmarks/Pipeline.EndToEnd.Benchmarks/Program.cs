using Pipeline.EndToEnd.Benchmarks;

return await EndToEndBenchmark.RunAsync(args);
