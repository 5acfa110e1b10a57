using Amazon.SQS.Model;
using EventBus;
using EventBus.AwsSqs;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Generation;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Kpis;
using Pipeline.Topology;
using ServiceDefaults.Aws;

namespace Pipeline.Testing;

/// <summary>Drives the running pipeline as a user would: uploads batches, submits them, reads alerts and KPIs.</summary>
/// <param name="alertTimeout">How long an alert may take (three minutes unless said).</param>
public sealed class PipelineDriver(EmulatorApp app, TimeSpan? alertTimeout = null) : IDisposable
{
    private readonly TimeSpan _alertTimeout = alertTimeout ?? TimeSpan.FromMinutes(3);

    private readonly Amazon.S3.AmazonS3Client _s3 = AwsClientFactory.CreateS3(app.Aws, app.Credentials);
    private readonly Amazon.SQS.AmazonSQSClient _sqs = AwsClientFactory.CreateSqs(app.Aws, app.Credentials);
    private readonly Amazon.DynamoDBv2.AmazonDynamoDBClient _dynamoDb = AwsClientFactory.CreateDynamoDb(app.Aws, app.Credentials);

    /// <summary>Alerts read from the inbox that no caller has asked for yet; shared by every test of the collection.</summary>
    private static readonly List<Alert> Unclaimed = [];

    public PipelineTopology Topology { get; } = new();

    public Amazon.S3.AmazonS3Client S3 => _s3;

    public Amazon.SQS.AmazonSQSClient Sqs => _sqs;

    public Amazon.DynamoDBv2.AmazonDynamoDBClient DynamoDb => _dynamoDb;

    public KpiQueries Kpis => new(_dynamoDb, Topology);

    public Pipeline.Storage.Runs.PipelineRunStore Runs(TimeProvider clock) => new(_dynamoDb, Topology, clock);

    public IEventBus Bus => SqsPublisher.Create(_sqs, app.CreateSnsClient(), "pipeline-tests");

    /// <summary>Publishes <paramref name="message"/> under a message id of the caller's, as a redelivery of the same message would arrive.</summary>
    public async Task PublishAsAsync<T>(Guid messageId, T message) where T : class
    {
        var sns = app.CreateSnsClient();
        var topic = await sns.FindTopicArnAsync(MessageNaming.EntityNameOf<T>()) ?? throw new InvalidOperationException($"no topic for {typeof(T).Name}");
        await sns.PublishAsync(new global::Aws.Sns.PublishRequest(
            topic, EnvelopeSerializer.Serialize(EnvelopeSerializer.Wrap(message, messageId, DateTimeOffset.UtcNow))));
    }

    /// <summary>
    /// Publishes a MassTransit envelope as another producer would: its own ids, sender (<c>rabbitmq://producer-host/order-exporter</c>)
    /// and sent time, and <paramref name="message"/>, the JSON of a <typeparamref name="T"/> of its making.
    /// </summary>
    public async Task PublishForeignAsync<T>(string message) where T : class
    {
        var sns = app.CreateSnsClient();
        var topic = await sns.FindTopicArnAsync(MessageNaming.EntityNameOf<T>()) ?? throw new InvalidOperationException($"no topic for {typeof(T).Name}");
        var envelope = $$$"""
            {"messageId":"{{{Guid.NewGuid()}}}","conversationId":"{{{Guid.NewGuid()}}}","sourceAddress":"rabbitmq://producer-host/order-exporter",
             "destinationAddress":"rabbitmq://producer-host/{{{typeof(T).Namespace}}}:{{{typeof(T).Name}}}","messageType":["{{{MessageNaming.UrnOf<T>()}}}"],
             "message":{{{message}}},"sentTime":"2026-11-28T09:30:00Z","headers":{},
             "host":{"machineName":"producer-host","processName":"order-exporter","processId":4242,
               "assembly":"OrderExporter","frameworkVersion":"8.0","massTransitVersion":"8.5.12.0","operatingSystemVersion":"Unix"}}
            """;
        await sns.PublishAsync(new global::Aws.Sns.PublishRequest(topic, envelope));
    }

    /// <summary>Uploads <paramref name="folder"/> as batch <paramref name="name"/> and publishes <see cref="BatchSubmitted"/>.</summary>
    public async Task<UploadedBatch> SubmitAsync(string folder, string name)
    {
        var uploaded = await new BatchUploader(_s3, new S3BatchStore(_s3)).UploadAsync(Topology.Bucket.Name, folder, name, null, CancellationToken.None);
        await Bus.PublishAsync(new BatchSubmitted(name, uploaded.Bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "tests"));
        return uploaded;
    }

    /// <summary>
    /// Uploads a folder's parts and a manifest that names <paramref name="productsKey"/> (a shared product master) instead
    /// of a products file of its own; publishes nothing.
    /// </summary>
    public async Task UploadWithProductsAtAsync(string folder, string name, string productsKey)
    {
        var orders = Directory.GetFiles(Path.Combine(folder, "orders")).Select(Path.GetFileName).ToList();
        var items = Directory.GetFiles(Path.Combine(folder, "order_items")).Select(Path.GetFileName).ToList();
        foreach (var (table, files) in new[] { ("orders", orders), ("order_items", items) })
        {
            foreach (var file in files)
            {
                await _s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest
                {
                    BucketName = Topology.Bucket.Name,
                    Key = $"data/{name}/{table}/{file}",
                    FilePath = Path.Combine(folder, table, file!),
                });
            }
        }
        var manifest = new BatchManifest(name, orders!, items!, productsKey);
        await _s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest
        {
            BucketName = Topology.Bucket.Name,
            Key = BatchLayout.ManifestKey(name),
            InputStream = new MemoryStream(manifest.ToJson()),
        });
    }

    /// <summary>
    /// Uploads <paramref name="folder"/> as batch <paramref name="name"/> as a shop's feed would (the files, the manifest last,
    /// no <see cref="BatchSubmitted"/>), then delivers to the manifest-events queue what S3 sends for the manifest in AWS
    /// (an <c>ObjectCreated:Put</c> event; the emulator emits none).
    /// </summary>
    public async Task<UploadedBatch> DropAsync(string folder, string name)
    {
        var uploaded = await new BatchUploader(_s3, new S3BatchStore(_s3)).UploadAsync(Topology.Bucket.Name, folder, name, null, CancellationToken.None);
        var eventJson = $$$$"""
            {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
              "eventTime":"{{{{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ}}}}","eventName":"ObjectCreated:Put",
              "userIdentity":{"principalId":"AWS:EXAMPLE"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},
              "responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
              "s3":{"s3SchemaVersion":"1.0","configurationId":"manifests",
              "bucket":{"name":"{{{{uploaded.Bucket}}}}","ownerIdentity":{"principalId":"EXAMPLE"},"arn":"arn:aws:s3:::{{{{uploaded.Bucket}}}}"},
              "object":{"key":"{{{{uploaded.ManifestKey}}}}","size":120,"eTag":"{{{{uploaded.ManifestETag}}}}","sequencer":"0055AED6DCD90281E5"}}}]}
            """;
        await _sqs.SendMessageAsync((await _sqs.GetQueueUrlAsync(Topology.ManifestEventsQueue.Name)).QueueUrl, eventJson);
        return uploaded;
    }

    /// <summary>
    /// The next alert about <paramref name="batchId"/> from the alerts inbox queue, of any status but
    /// <see cref="AlertStatus.Anomaly"/> (a batch's data may well be anomalous, and those alerts come after its outcome's).
    /// Alerts about other batches read on the way are kept for their own turn, so batches in flight together do not lose
    /// each other's alerts.
    /// </summary>
    public async Task<Alert> NextAlertAsync(string batchId)
    {
        var deadline = DateTimeOffset.UtcNow + _alertTimeout;
        while (true)
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"No alert about batch {batchId} within {_alertTimeout.TotalMinutes} minutes. The services' latest logs:\n{app.RecentServiceLogs()}");
            }
            lock (Unclaimed)
            {
                var waiting = Unclaimed.FindIndex(a => a.BatchId == batchId && a.Status != AlertStatus.Anomaly);
                if (waiting >= 0)
                {
                    var alert = Unclaimed[waiting];
                    Unclaimed.RemoveAt(waiting);
                    return alert;
                }
            }
            await ReceiveAlertsAsync(waitSeconds: 2);
        }
    }

    /// <summary>Moves the alerts one receive from the inbox brings into <see cref="Unclaimed"/>; how many there were.</summary>
    private async Task<int> ReceiveAlertsAsync(int waitSeconds)
    {
        var inbox = (await _sqs.GetQueueUrlAsync(Topology.AlertsInboxQueue.Name)).QueueUrl;
        var received = await _sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = inbox, WaitTimeSeconds = waitSeconds, MaxNumberOfMessages = 10 });
        foreach (var message in received.Messages ?? [])
        {
            await _sqs.DeleteMessageAsync(inbox, message.ReceiptHandle);
            lock (Unclaimed)
            {
                Unclaimed.Add(Alert.FromJson(message.Body));
            }
        }
        return received.Messages?.Count ?? 0;
    }

    private static long s_nextIds;

    /// <summary>
    /// A generated batch in a temporary folder, shaped like the seed data, starting on <paramref name="firstDay"/>.
    /// Its order and item ids are its own (an order is counted in one batch only) unless <paramref name="idOffset"/>
    /// asks for the ids of another generated batch.
    /// </summary>
    /// <param name="compression">How the files are stored (plain <c>.csv</c> unless said).</param>
    public static string Generate(
        long orders, DateOnly firstDay, ulong seed, int days = 10, long? idOffset = null, PartCompression compression = PartCompression.None)
    {
        var folder = NewBatchFolder();
        SyntheticBatchGenerator.Generate(folder, new GeneratorOptions(orders, Parts: 3, Seed: seed, Days: days, Products: 500)
        {
            FirstDay = firstDay,
            IdOffset = idOffset ?? NewIds(),
            Compression = compression,
        });
        return folder;
    }

    /// <summary>The folder of this test process's generated batches: one, removed when the process ends, as its batches are many.</summary>
    private static readonly Lazy<string> s_batchFolders = new(() =>
    {
        var root = Directory.CreateTempSubdirectory("pipeline-e2e-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A file still open, or the test host stopped first: the rest stays in the temporary folder.
            }
        };
        return root;
    });

    /// <summary>A new empty folder for a batch, removed with the others when the test process ends.</summary>
    public static string NewBatchFolder() => Directory.CreateDirectory(Path.Combine(s_batchFolders.Value, Guid.NewGuid().ToString("N"))).FullName;

    /// <summary>An id offset no other generated batch of this test run has (far above the seed data's ids).</summary>
    public static long NewIds() => Interlocked.Increment(ref s_nextIds) * 100_000_000L;

    /// <summary>
    /// Asserts that no alert about any of <paramref name="batchIds"/> is coming, whatever order alerts arrive in. Known, not waited
    /// for: (1) every message the earlier actions caused is handled (<see cref="WaitUntilHandledAsync"/>), so whatever
    /// alert a handler sent is in the inbox; (2) the Notifier's checks ran a whole round since: two dead letters, the second
    /// put after the first was reported, are reported; (3) the inbox is read to its end.
    /// </summary>
    public async Task AssertNoAlertAboutAsync(params string[] batchIds)
    {
        await WaitUntilHandledAsync();
        for (var letter = 1; letter <= 2; letter++)
        {
            await ReportDeadLetterAsync($"sentinel-{Guid.NewGuid():N}"[..20]);
        }
        var inbox = (await _sqs.GetQueueUrlAsync(Topology.AlertsInboxQueue.Name)).QueueUrl;
        while (await ReceiveAlertsAsync(waitSeconds: 0) > 0 || await InQueueAsync(inbox) > 0)
        {
            await Task.Delay(50);
        }
        lock (Unclaimed)
        {
            Assert.DoesNotContain(Unclaimed, a => batchIds.Contains(a.BatchId));
        }
    }

    /// <summary>
    /// Every alert about <paramref name="batchId"/> so far, in the order they came, taken from the inbox: known complete as
    /// <see cref="AssertNoAlertAboutAsync"/> knows that none is coming.
    /// </summary>
    public async Task<IReadOnlyList<Alert>> AllAlertsAboutAsync(string batchId)
    {
        await AssertNoAlertAboutAsync();
        return ClaimAlertsAbout(batchId);
    }

    /// <summary>
    /// The alerts about <paramref name="batchId"/> already read, taken from the inbox: all of them when nothing happened
    /// since <see cref="AllAlertsAboutAsync"/> or <see cref="AssertNoAlertAboutAsync"/> waited for a quiet pipeline.
    /// </summary>
    public IReadOnlyList<Alert> ClaimAlertsAbout(string batchId)
    {
        lock (Unclaimed)
        {
            var about = Unclaimed.Where(a => a.BatchId == batchId).ToList();
            Unclaimed.RemoveAll(a => a.BatchId == batchId);
            return about;
        }
    }

    /// <summary>
    /// Puts a letter about <paramref name="batchId"/> (a submission) in Validate's dead-letter queue, reads the Notifier's
    /// Failed alert about it, and deletes it: a round of the Notifier's checks ran meanwhile.
    /// </summary>
    public async Task ReportDeadLetterAsync(string batchId)
    {
        var submitted = new BatchSubmitted(batchId, Topology.Bucket.Name, BatchLayout.ManifestKey(batchId), null, DateTimeOffset.UtcNow, "tests");
        var letter = EnvelopeSerializer.Serialize(EnvelopeSerializer.Wrap(submitted, Guid.NewGuid(), DateTimeOffset.UtcNow));
        await _sqs.SendMessageAsync((await _sqs.GetQueueUrlAsync(Topology.ValidateQueue.DeadLetterQueueName)).QueueUrl, letter);
        Assert.Equal(AlertStatus.Failed, (await NextAlertAsync(batchId)).Status);
        await DeleteDeadLettersAsync(Topology.ValidateQueue, batchId);
    }

    /// <summary>
    /// Waits until no service has a message waiting, delayed or in hand. The queues are read in the order messages flow:
    /// a handler publishes what comes next before it deletes its message, so no message slips past between two reads.
    /// </summary>
    private async Task WaitUntilHandledAsync()
    {
        QueueSpec[] flow = [Topology.ManifestEventsQueue, Topology.ValidateQueue, Topology.TransformQueue, Topology.ComputeQueue, Topology.NotifierQueue];
        var deadline = DateTimeOffset.UtcNow + _alertTimeout;
        while (true)
        {
            var busy = new List<string>();
            foreach (var queue in flow)
            {
                if (await InQueueAsync((await _sqs.GetQueueUrlAsync(queue.Name)).QueueUrl) is > 0 and var messages)
                {
                    busy.Add($"{queue.Name}: {messages}");
                }
            }
            if (busy.Count == 0)
            {
                return;
            }
            Assert.True(DateTimeOffset.UtcNow < deadline, $"Messages still not handled after {_alertTimeout.TotalMinutes} minutes: {string.Join(", ", busy)}");
            await Task.Delay(100);
        }
    }

    /// <summary>The messages in a queue, waiting, delayed or in flight (exact on the emulator).</summary>
    public async Task<int> InQueueAsync(string url)
    {
        var attributes = await _sqs.GetQueueAttributesAsync(new GetQueueAttributesRequest(url,
            ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]));
        return attributes.ApproximateNumberOfMessages + attributes.ApproximateNumberOfMessagesNotVisible + attributes.ApproximateNumberOfMessagesDelayed;
    }

    public async Task<Pipeline.Storage.Runs.BatchHistory> HistoryAsync(string batchId) =>
        (await Runs(TimeProvider.System).GetHistoryAsync(batchId, CancellationToken.None))
        ?? throw new InvalidOperationException($"no run history for batch {batchId}");

    /// <summary>The batch's KPIs as the engine computes them from the folders given (the batches meant to be in force).</summary>
    public static KpiTables EngineKpis(params string[] folders) =>
        KpiCalculator.Compute(KpiPartial.Merge(folders.Select(f => new BatchProcessor().Process(LocalBatchFolder.Open(f)).Kpis!)));

    /// <summary>Asserts that the stored KPIs of every day and category in <paramref name="expected"/> are exactly those.</summary>
    public async Task AssertKpisEqualAsync(KpiTables expected)
    {
        var days = expected.OrderKpis.Select(r => r.OrderDate).ToList();
        Assert.Equal(expected.OrderKpis, await Kpis.GetDaysAsync(days.Min(), days.Max(), CancellationToken.None));
        foreach (var day in days)
        {
            Assert.Equal(expected.CategoryKpis.Where(r => r.OrderDate == day), await Kpis.GetCategoriesOnDayAsync(day, CancellationToken.None));
        }
    }

    /// <summary>
    /// Deletes the <paramref name="count"/> dead letters about <paramref name="batchId"/> from the dead-letter queue of
    /// <paramref name="queue"/>, once their alert was read, so that no other test's redrive moves them again. Letters the
    /// Notifier's watcher is looking at are hidden for a moment: it keeps looking until all are found.
    /// </summary>
    public async Task DeleteDeadLettersAsync(QueueSpec queue, string batchId, int count = 1)
    {
        var url = (await _sqs.GetQueueUrlAsync(queue.DeadLetterQueueName)).QueueUrl;
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        var others = new List<Message>();
        for (var deleted = 0; deleted < count;)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"{deleted} of {count} dead letters about {batchId} found in {queue.DeadLetterQueueName}");
            var request = new ReceiveMessageRequest { QueueUrl = url, MaxNumberOfMessages = 10, WaitTimeSeconds = 1, VisibilityTimeout = 30 };
            var received = (await _sqs.ReceiveMessageAsync(request)).Messages ?? [];
            foreach (var message in received)
            {
                // A bus message names its batch; an S3 event, the batch's manifest.
                if (message.Body.Contains($"\"batchId\":\"{batchId}\"", StringComparison.Ordinal)
                    || message.Body.Contains($"\"key\":\"data/{batchId}/manifest_{batchId}.json\"", StringComparison.Ordinal))
                {
                    await _sqs.DeleteMessageAsync(url, message.ReceiptHandle);
                    deleted++;
                }
                else
                {
                    others.Add(message);
                }
            }
        }
        foreach (var other in others)
        {
            await _sqs.ChangeMessageVisibilityAsync(url, other.ReceiptHandle, 0);
        }
    }

    /// <summary>Every key in the bucket that starts with <paramref name="prefix"/>, page after page.</summary>
    public async Task<IReadOnlyList<string>> KeysUnderAsync(string prefix, CancellationToken cancellationToken = default) =>
        (await ObjectsUnderAsync(prefix, cancellationToken)).Select(o => o.Key).ToList();

    /// <summary>Every object (key, size, when written) in the bucket whose key starts with <paramref name="prefix"/>, page after page.</summary>
    public async Task<IReadOnlyList<Amazon.S3.Model.S3Object>> ObjectsUnderAsync(string prefix, CancellationToken cancellationToken = default) =>
        (await _s3.ListObjectsAsync(Topology.Bucket.Name, prefix, int.MaxValue, cancellationToken)).Objects;

    public void Dispose()
    {
        _s3.Dispose();
        _sqs.Dispose();
        _dynamoDb.Dispose();
    }
}
