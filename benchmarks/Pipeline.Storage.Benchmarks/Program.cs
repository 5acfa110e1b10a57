using Pipeline.Storage.Benchmarks;

if (args.Contains("--runs-table"))
{
    await using var emulators = await StorageEmulators.StartAsync();
    await RunsTableBenchmark.RunAsync(emulators);
    return 0;
}
return await KpiFoldBenchmark.RunAsync(args);
