using Dashboard.Benchmarks;

return await DashboardBenchmark.RunAsync(args);
