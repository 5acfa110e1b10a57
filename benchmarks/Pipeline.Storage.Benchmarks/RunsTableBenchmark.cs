using System.Collections.Concurrent;
using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Benchmarks;
using Pipeline.Storage.Runs;

namespace Pipeline.Storage.Benchmarks;

/// <summary>
/// What the failure watcher's round and the dashboard's runs overview read as the runs table grows from 100 to 100,000
/// items: requests and read capacity (as dynalite reports it), against a Scan of the same table. The first hundred runs
/// go through the run store (a few running, failed and announced ones among them); the closed runs that grow the table
/// are written with BatchWriteItem, as the store lays them out.
/// </summary>
internal static class RunsTableBenchmark
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static async Task RunAsync(StorageEmulators emulators)
    {
        var calls = new ResponseCounter();
        using var dynamoDb = emulators.CreateDynamoDb();
        dynamoDb.AfterResponseEvent += calls.Count;
        var clock = new SetClock { Now = T0 };
        var runs = new PipelineRunStore(dynamoDb, emulators.Topology, clock);
        Console.WriteLine($"The runs table as it grows (load average {Figures.LoadAverage()}, commit {Figures.Commit()}):");
        Console.WriteLine("| items | a failure-watcher round | the runs overview (50 newest, the running ones) | a Scan of the table |");
        Console.WriteLine("| ---: | --- | --- | --- |");

        await SeedAsync(runs);
        clock.Now = T0.AddDays(400); // the running ones have stalled
        var written = 100;
        foreach (var size in new[] { 100, 1_000, 10_000, 100_000 })
        {
            await WriteClosedAsync(dynamoDb, emulators.Topology.PipelineRunsTable.Name, written, size);
            written = size;
            calls.Clear();
            await runs.FindStalledAsync(clock.GetUtcNow() - TimeSpan.FromMinutes(15), CancellationToken.None);
            await runs.FindUnannouncedFailuresAsync(CancellationToken.None);
            var watcher = calls.ToString();
            calls.Clear();
            await runs.ListRecentAsync(50, CancellationToken.None);
            await runs.ListRunningAsync(CancellationToken.None);
            var overview = calls.ToString();
            calls.Clear();
            var scan = new ScanRequest { TableName = emulators.Topology.PipelineRunsTable.Name, ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL };
            do
            {
                scan.ExclusiveStartKey = (await dynamoDb.ScanAsync(scan)).LastEvaluatedKey is { Count: > 0 } next ? next : null;
            }
            while (scan.ExclusiveStartKey is not null);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {size:N0} | {watcher} | {overview} | {calls} |"));
        }
        Console.WriteLine($"(load average after: {Figures.LoadAverage()})");
    }

    /// <summary>100 versions: 93 succeeded, 4 running (stalled by now), 3 failed and not yet announced.</summary>
    private static async Task SeedAsync(PipelineRunStore runs)
    {
        for (var i = 0; i < 100; i++)
        {
            var batch = $"seed-{i:D6}";
            await runs.BeginUploadAsync(new UploadStart(batch, $"data/{batch}/manifest_{batch}.json", $"etag-{i}", $"content-{i}", null, "cli",
                T0.AddMinutes(i), $"message-{i}"), CancellationToken.None);
            if (i >= 7)
            {
                await runs.SucceedAsync(batch, 1, "Folded in.", Stages.Compute, new StageRecord(StageStatus.Succeeded, T0, T0, new Dictionary<string, long>()),
                    CancellationToken.None);
            }
            else if (i >= 4)
            {
                await runs.FailAsync(batch, 1, "dead letter", null, CancellationToken.None);
            }
        }
    }

    /// <summary>Closed versions <paramref name="from"/> to <paramref name="to"/> (each a batch of its own), 25 an item request, 8 requests at once.</summary>
    private static async Task WriteClosedAsync(IAmazonDynamoDB dynamoDb, string table, int from, int to)
    {
        var items = Enumerable.Range(from, to - from).Select(i =>
        {
            var batch = $"bulk-{i:D6}";
            var start = new UploadStart(batch, $"data/{batch}/manifest_{batch}.json", $"etag-{i}", $"content-{i}", null, "cli", T0.AddDays(1).AddSeconds(i),
                $"message-{i}");
            var run = PipelineRun.NewUpload(start, T0) with { Version = 1, Status = RunStatus.Succeeded, FinishedAt = T0, Summary = "Folded in." };
            return new WriteRequest(new PutRequest(RunItems.ToItem(run)));
        }).Chunk(25);
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (chunk, ct) =>
        {
            var pending = new Dictionary<string, List<WriteRequest>> { [table] = chunk.ToList() };
            while (pending.Count > 0)
            {
                pending = (await dynamoDb.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = pending }, ct)).UnprocessedItems ?? [];
            }
        });
    }

    private sealed class SetClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Requests by operation and the read capacity their answers report, from the client's responses.</summary>
    private sealed class ResponseCounter
    {
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
        private double _capacity;

        public void Clear()
        {
            _counts.Clear();
            _capacity = 0;
        }

        public void Count(object? sender, ResponseEventArgs e)
        {
            if (e is not WebServiceResponseEventArgs answer)
            {
                return;
            }
            var operation = answer.Request.GetType().Name.Replace("Request", "", StringComparison.Ordinal);
            _counts.AddOrUpdate(operation, 1, (_, n) => n + 1);
            _capacity += answer.Response switch
            {
                QueryResponse query => query.ConsumedCapacity?.CapacityUnits ?? 0,
                ScanResponse scan => scan.ConsumedCapacity?.CapacityUnits ?? 0,
                _ => 0,
            };
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{_counts.Values.Sum()} requests ({string.Join(", ", _counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"))}), "
            + $"{_capacity:0.#} read units");
    }
}
