using Pipeline.Storage.Benchmarks;

return await KpiFoldBenchmark.RunAsync(args);
