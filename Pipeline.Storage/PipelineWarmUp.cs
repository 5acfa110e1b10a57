using System.Net;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Aws.Sns;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Curated;
using Pipeline.Engine.Generation;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Transform;
using Pipeline.Storage.Batches;
using Pipeline.Topology;
using Pipeline.Topology.Access;

namespace Pipeline.Storage;

/// <summary>
/// What a service runs at start-up so that its first batch costs what any batch costs (measured in
/// docs/pipeline-performance.md): the engine on a tiny generated batch (parsing, validation, enrichment, the enriched
/// files, the KPI fold; Compute's curated Parquet), and the AWS calls of the service's access declaration on keys that do not exist, which compiles
/// each call's request and response code and opens the connections. Nothing is written: a write is made on condition
/// that a key exists which does not, so it is refused.
/// </summary>
public static class PipelineWarmUp
{
    private const string Key = "warm-up";

    /// <summary>The engine, the whole way: validate and enrich a 60-order batch, write and read its enriched files, fold its KPIs.</summary>
    public static Task EngineAsync(IServiceProvider services, CancellationToken cancellationToken) => Task.Run(() =>
    {
        var folder = Directory.CreateTempSubdirectory("pipeline-warm-up-").FullName;
        try
        {
            SyntheticBatchGenerator.Generate(Path.Combine(folder, "batch"), new GeneratorOptions(60, Parts: 2, Seed: 1, Days: 2, Products: 10));
            using var output = new EnrichedPartFiles();
            var result = new BatchProcessor().Process(
                LocalBatchFolder.Open(Path.Combine(folder, "batch")), cancellationToken: cancellationToken, output: output);
            if (!result.Accepted)
            {
                throw new InvalidOperationException($"the warm-up batch was rejected ({result.Report.ErrorCount} errors)");
            }
            var partials = output.Combine(S3BatchStore.PartSize).Select(file =>
            {
                using var stream = File.OpenRead(file.Path);
                return EnrichedFile.ReadPartial(stream);
            }).ToList();
            KpiCalculator.Compute(KpiPartial.Merge(partials));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }, cancellationToken);

    /// <summary>
    /// Compute's curated Parquet: a few items written as two days' Parquet in memory, so that a batch's first file does not
    /// load ParquetSharp's native writer or compile the code that hands it the columns (the enriched record reader it uses
    /// is the engine warm-up's). A native library that cannot load fails the warm-up, and Compute never reports ready.
    /// </summary>
    public static Task CuratedAsync(CancellationToken cancellationToken) => Task.Run(() =>
    {
        var days = new List<MemoryStream>();
        try
        {
            using var writer = new CuratedOrderItemsWriter(_ =>
            {
                days.Add(new MemoryStream());
                return days[^1];
            });
            var created = new DateTime(2025, 1, 1, 12, 0, 0, DateTimeKind.Utc);
            for (var id = 1; id <= 60; id++)
            {
                writer.Write(new EnrichedOrderItem(id, id, id, id, new ProductCategory(0, Key), (OrderStatus)(id % 2), new ItemTimes(
                    created.AddDays(id % 2), created.AddDays(1), id % 3 == 0 ? created.AddDays(2) : null, null), 10.25m));
            }
            writer.Complete();
        }
        finally
        {
            days.ForEach(d => d.Dispose());
        }
    }, cancellationToken);

    /// <summary>Each AWS call the service may make, on a key that does not exist: reads find nothing, writes are refused by their condition.</summary>
    public static async Task AwsAsync(IServiceProvider services, ServiceAccess access, CancellationToken cancellationToken)
    {
        var topology = services.GetRequiredService<PipelineTopology>();
        var s3 = services.GetRequiredService<IAmazonS3>();
        var dynamoDb = services.GetRequiredService<IAmazonDynamoDB>();
        var sns = services.GetRequiredService<SnsClient>();

        var bucket = topology.Bucket.Name;
        var readable = access.Objects.FirstOrDefault(o => o.Operations.HasFlag(ObjectOperations.Read))?.Prefix;
        foreach (var grant in access.Objects)
        {
            var key = grant.KeyIn($"{Key}-{Guid.NewGuid():N}");
            if (grant.Operations.HasFlag(ObjectOperations.Read))
            {
                await Missing(() => s3.GetObjectMetadataAsync(bucket, key, cancellationToken)).ConfigureAwait(false);
                await Missing(async () =>
                {
                    using var _ = await s3.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
            }
            if (grant.Operations.HasFlag(ObjectOperations.Write))
            {
                // A copy of an object that is not there: refused, nothing written. (A put cannot be made harmless everywhere:
                // the emulator ignores If-Match on PutObject.)
                if (readable is not null)
                {
                    await Missing(() => s3.CopyObjectAsync(new CopyObjectRequest
                    {
                        SourceBucket = bucket,
                        SourceKey = $"{readable}{Key}-{Guid.NewGuid():N}",
                        DestinationBucket = bucket,
                        DestinationKey = key,
                    }, cancellationToken)).ConfigureAwait(false);
                }
            }
            if (grant.Operations.HasFlag(ObjectOperations.Delete))
            {
                await Missing(() => s3.DeleteObjectAsync(new DeleteObjectRequest
                {
                    BucketName = bucket,
                    Key = key,
                    IfMatch = "\"0\"",
                }, cancellationToken)).ConfigureAwait(false);
            }
        }

        foreach (var grant in access.Tables)
        {
            var table = grant.Table;
            var key = KeyOf(table.Key);
            if (grant.Operations.HasFlag(TableOperations.GetItem))
            {
                await dynamoDb.GetItemAsync(
                    new GetItemRequest { TableName = table.Name, Key = key, ConsistentRead = true }, cancellationToken).ConfigureAwait(false);
            }
            if (grant.Operations.HasFlag(TableOperations.BatchGetItem))
            {
                await dynamoDb.BatchGetItemAsync(new BatchGetItemRequest
                {
                    RequestItems = new() { [table.Name] = new KeysAndAttributes { Keys = [key], ConsistentRead = true } },
                }, cancellationToken).ConfigureAwait(false);
            }
            if (grant.Operations.HasFlag(TableOperations.Query))
            {
                await dynamoDb.QueryAsync(new QueryRequest
                {
                    TableName = table.Name,
                    KeyConditionExpression = "#k = :k",
                    ExpressionAttributeNames = new() { ["#k"] = table.Key.Partition.Name },
                    ExpressionAttributeValues = new() { [":k"] = key[table.Key.Partition.Name] },
                    Limit = 1,
                }, cancellationToken).ConfigureAwait(false);
            }
            var unless = $"attribute_exists(#k)";
            var names = new Dictionary<string, string> { ["#k"] = table.Key.Partition.Name };
            if (grant.Operations.HasFlag(TableOperations.PutItem))
            {
                await Refused(() => dynamoDb.PutItemAsync(new PutItemRequest
                {
                    TableName = table.Name,
                    Item = new Dictionary<string, AttributeValue>(key) { ["warm_up"] = new AttributeValue { BOOL = true } },
                    ConditionExpression = unless,
                    ExpressionAttributeNames = names,
                }, cancellationToken)).ConfigureAwait(false);
            }
            if (grant.Operations.HasFlag(TableOperations.BatchWriteItem))
            {
                // Deletes the warm-up key, which is not there: nothing changes.
                await dynamoDb.BatchWriteItemAsync(new BatchWriteItemRequest
                {
                    RequestItems = new() { [table.Name] = [new WriteRequest { DeleteRequest = new DeleteRequest { Key = key } }] },
                }, cancellationToken).ConfigureAwait(false);
            }
            if (grant.Operations.HasFlag(TableOperations.UpdateItem))
            {
                await Refused(() => dynamoDb.UpdateItemAsync(new UpdateItemRequest
                {
                    TableName = table.Name,
                    Key = key,
                    UpdateExpression = "SET #w = :w",
                    ConditionExpression = unless,
                    ExpressionAttributeNames = new Dictionary<string, string>(names) { ["#w"] = "warm_up" },
                    ExpressionAttributeValues = new() { [":w"] = new AttributeValue { BOOL = true } },
                }, cancellationToken)).ConfigureAwait(false);
            }
        }

        foreach (var topic in access.Publishes)
        {
            await sns.FindTopicArnAsync(topic.Name, cancellationToken).ConfigureAwait(false);
        }
    }

    private static Dictionary<string, AttributeValue> KeyOf(TableKey key)
    {
        var values = new Dictionary<string, AttributeValue> { [key.Partition.Name] = ValueOf(key.Partition) };
        if (key.Sort is { } sort)
        {
            values[sort.Name] = ValueOf(sort);
        }
        return values;
    }

    private static AttributeValue ValueOf(KeyAttribute attribute) =>
        attribute.Type == KeyAttributeType.Number ? new AttributeValue { N = "-1" } : new AttributeValue { S = Key };

    /// <summary>A call on a key that does not exist: not found (or, in AWS without list rights, forbidden; or a failed precondition).</summary>
    private static async Task Missing(Func<Task> read)
    {
        try
        {
            await read().ConfigureAwait(false);
        }
        catch (AmazonServiceException e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden or HttpStatusCode.PreconditionFailed)
        {
        }
    }

    /// <summary>A write whose condition cannot hold.</summary>
    private static async Task Refused(Func<Task> write)
    {
        try
        {
            await write().ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
        }
    }
}
