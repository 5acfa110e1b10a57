namespace Pipeline.Topology;

/// <summary>The pipeline's bucket and the top-level folders its keys live under.</summary>
public sealed record BucketSpec(string Name)
{
    /// <summary>Incoming batches (and the product master): <c>data/&lt;batch&gt;/...</c>.</summary>
    public const string DataPrefix = "data/";

    /// <summary>Raw files and reports of accepted batches (each version in its own folder), moved here after success.</summary>
    public const string ProcessedPrefix = "processed/";

    /// <summary>Raw files and reports of rejected batches.</summary>
    public const string ErrorsPrefix = "errors/";

    /// <summary>Raw files of accepted batches that were retracted, moved here from processed/.</summary>
    public const string RetractedPrefix = "retracted/";

    /// <summary>The enriched files Transform writes for Compute.</summary>
    public const string TransformedPrefix = "transformed/";

    /// <summary>
    /// Analysts' Parquet of the versions in force (<see cref="CuratedTableSpec"/>), written by Compute; the only folder
    /// the analysts' policy reads.
    /// </summary>
    public const string CuratedPrefix = "curated/";

    /// <summary>The product master that batches without products of their own use; never archived with a batch.</summary>
    public const string ProductMasterKey = DataPrefix + "products.csv";

    /// <summary>Product files that several batches use (<c>data/shared/...</c>); never archived with a batch.</summary>
    public const string SharedPrefix = DataPrefix + "shared/";

    /// <summary>The name of a version's validation report, in its folder under processed/ (accepted) or errors/ (rejected).</summary>
    public const string ReportName = "validation.json";
}

/// <summary>
/// S3 tells <paramref name="Queue"/> about objects created under <paramref name="Prefix"/> whose keys end with
/// <paramref name="Suffix"/> (S3 filters know only a prefix and a suffix; the receiver checks the exact key).
/// </summary>
public sealed record ObjectCreatedNotificationSpec(string Prefix, string Suffix, QueueSpec Queue);

public enum KeyAttributeType { String, Number }

public sealed record KeyAttribute(string Name, KeyAttributeType Type = KeyAttributeType.String);

/// <summary>A table's primary key, and the key of each global secondary index.</summary>
public sealed record TableKey(KeyAttribute Partition, KeyAttribute? Sort = null)
{
    public IEnumerable<KeyAttribute> Attributes => Sort is null ? [Partition] : [Partition, Sort];
}

public sealed record GlobalIndexSpec(string Name, TableKey Key);

/// <summary>An on-demand (pay per request) DynamoDB table.</summary>
public sealed record TableSpec(string Name, TableKey Key, IReadOnlyList<GlobalIndexSpec> GlobalIndexes)
{
    public TableSpec(string name, TableKey key) : this(name, key, []) { }

    /// <summary>The attribute (epoch seconds) after which DynamoDB deletes an item; none when null.</summary>
    public string? TimeToLiveAttribute { get; init; }

    /// <summary>Every attribute that is part of a key, declared once (what CreateTable's AttributeDefinitions wants).</summary>
    public IEnumerable<KeyAttribute> KeyAttributes =>
        Key.Attributes.Concat(GlobalIndexes.SelectMany(i => i.Key.Attributes)).DistinctBy(a => a.Name);
}

public sealed record TopicSpec(string Name);

/// <summary>
/// A queue and its dead-letter queue <c>{Name}_error</c>: the bus dead-letters a message whose handler failed on its
/// <see cref="MaxReceiveCount"/>th receive (with the error); SQS's own redrive after <see cref="RedriveMaxReceiveCount"/>.
/// </summary>
public sealed record QueueSpec(string Name)
{
    public const string DeadLetterSuffix = "_error";

    /// <summary>
    /// Receives SQS counts that never reached a handler's end (a task killed, a receive answer lost, a delete that failed)
    /// are spared on top of <see cref="MaxReceiveCount"/>, so they do not use up a handler's budget.
    /// </summary>
    public const int SpareReceives = 5;

    public int MaxReceiveCount { get; init; } = 5;

    /// <summary>SQS's redrive: only a message whose receives keep ending before its handler does (a crash loop) gets there.</summary>
    public int RedriveMaxReceiveCount => MaxReceiveCount + SpareReceives;
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Dead letters are kept for the longest time SQS allows, so that nothing is lost before someone looks.</summary>
    public static readonly TimeSpan DeadLetterRetention = TimeSpan.FromDays(14);

    /// <summary>
    /// The largest message the queue accepts (body and attributes): what an SNS publish carries, 256 KiB. SQS itself takes
    /// up to 1 MiB, which is also the dead-letter queue's (SQS's default), so a dead letter always has room for its fault
    /// attributes; a larger message sent to the queue directly is refused to its sender.
    /// </summary>
    public const int MaxMessageBytes = 256 * 1024;

    public string DeadLetterQueueName => Name + DeadLetterSuffix;
}

/// <summary>An SQS queue subscribed to an SNS topic, with raw delivery so the queue sees the message as published.</summary>
public sealed record SubscriptionSpec(TopicSpec Topic, QueueSpec Queue, bool RawMessageDelivery = true);

/// <summary>
/// A curated Parquet table for analysts: the files under <see cref="Prefix"/> in Hive layout
/// (<c>{Prefix}{PartitionColumn}=YYYY-MM-DD/...</c>), one column per <see cref="Columns"/> entry in the files, the partition
/// column only in the path. The Parquet writer and the Glue table are both checked against this declaration.
/// </summary>
public sealed record CuratedTableSpec(string Name, string Prefix, string PartitionColumn, IReadOnlyList<CuratedColumn> Columns);

/// <summary>A column of a curated table, with its type as Glue and Athena name it (<c>bigint</c>, <c>decimal(38,18)</c>, <c>timestamp</c>).</summary>
public sealed record CuratedColumn(string Name, string Type);
