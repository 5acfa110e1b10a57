using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Amazon.SQS.Model;
using Pipeline.Cli.Commands;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Generation;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;
using Pipeline.Storage.Tests;
using ServiceDefaults.Aws;

namespace Pipeline.Cli.Tests;

/// <summary><c>pipeline submit</c>, <c>status</c>, <c>kpis</c> and <c>dlq</c> against the local emulators, in process.</summary>
public sealed class PipelineCommandsTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pipeline-cli-tests-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Task<CliRun> Run(params string[] args) => CliRun.RunAsync(aws, args);

    private string Generate(string name, long orders, DateOnly firstDay)
    {
        var folder = Path.Combine(_root, name);
        SyntheticBatchGenerator.Generate(folder, new GeneratorOptions(orders, Parts: 2, Seed: 5, Days: 3, Products: 50) { FirstDay = firstDay });
        return folder;
    }

    [Fact]
    public async Task Submit_uploads_the_parts_and_a_manifest_and_publishes_BatchSubmitted_to_the_validate_queue()
    {
        var folder = Generate("upload-me", 200, new DateOnly(2024, 1, 1));

        var run = await Run("submit", folder, "--batch", "cli-submit");

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        using var summary = JsonDocument.Parse(run.Out);
        Assert.Equal("cli-submit", summary.RootElement.GetProperty("batch").GetString());
        Assert.Equal("data/cli-submit/manifest_cli-submit.json", summary.RootElement.GetProperty("manifest_key").GetString());
        var etag = summary.RootElement.GetProperty("etag").GetString();

        using var s3 = aws.CreateS3();
        var keys = (await s3.ListObjectsV2Async(new() { BucketName = aws.Topology.Bucket.Name, Prefix = "data/cli-submit/" })).S3Objects
            .Select(o => o.Key)
            .Order()
            .ToList();
        Assert.Equal(
            ["data/cli-submit/manifest_cli-submit.json",
             "data/cli-submit/order_items/order_items_part1.csv", "data/cli-submit/order_items/order_items_part2.csv",
             "data/cli-submit/orders/orders_part1.csv", "data/cli-submit/orders/orders_part2.csv", "data/cli-submit/products.csv"],
            keys);

        using var sqs = AwsClientFactory.CreateSqs(aws.Aws, aws.Credentials);
        var queue = (await sqs.GetQueueUrlAsync(aws.Topology.ValidateQueue.Name)).QueueUrl;
        var received = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queue, WaitTimeSeconds = 5 });
        using var envelope = JsonDocument.Parse(Assert.Single(received.Messages).Body);
        var message = envelope.RootElement.GetProperty("message");
        Assert.Equal(("cli-submit", "data/cli-submit/manifest_cli-submit.json", etag, "cli"),
            (message.GetProperty("batchId").GetString(), message.GetProperty("manifestKey").GetString(),
            message.GetProperty("manifestETag").GetString(), message.GetProperty("source").GetString()));
    }

    [Fact]
    public void The_default_batch_name_is_the_folders_name_when_valid_else_todays_date()
    {
        var today = new DateTimeOffset(2026, 11, 25, 23, 30, 0, TimeSpan.FromHours(-2));
        Assert.Equal("20250409", SubmitCommand.DefaultBatchName(new DirectoryInfo("/data/20250409"), today));
        Assert.Equal("20261126", SubmitCommand.DefaultBatchName(new DirectoryInfo("/data/my batch"), today));
    }

    [Fact]
    public async Task Submit_of_a_missing_folder_or_a_bad_batch_name_exits_1_with_one_line()
    {
        var missing = await Run("submit", Path.Combine(_root, "nowhere"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal($"pipeline submit: no batch folder {Path.Combine(_root, "nowhere")}", missing.Error.TrimEnd());

        var badName = await Run("submit", _root, "--batch", "../escape");
        Assert.Equal(1, badName.ExitCode);
        Assert.StartsWith("pipeline submit: '../escape' is not a valid batch name", badName.Error, StringComparison.Ordinal);
        Assert.Single(badName.Error.TrimEnd().Split('\n'));

        var smokes = await Run("submit", Generate("not-a-smoke", 10, new DateOnly(2024, 1, 1)), "--batch", SmokeBatch.Name);
        Assert.Equal((1, "pipeline submit: 'pipeline-smoke' is the batch pipeline smoke sends and retracts; give your data another name (--batch)"),
            (smokes.ExitCode, smokes.Error.TrimEnd()));
    }

    [Fact]
    public async Task Submit_of_a_batch_the_pipeline_would_refuse_by_its_files_uploads_nothing_and_names_the_limit()
    {
        var many = Generate("many-parts", 20, new DateOnly(2024, 2, 1));
        foreach (var i in Enumerable.Range(3, 500))
        {
            File.WriteAllText(
                Path.Combine(many, "orders", $"orders_part{i}.csv"),
                "order_id,user_id,status,created_at,returned_at,shipped_at,delivered_at,num_of_item\n");
        }
        var longName = Generate("long-name", 20, new DateOnly(2024, 2, 1));
        File.Move(Path.Combine(longName, "orders", "orders_part1.csv"), Path.Combine(longName, "orders", new string('o', 120) + ".csv"));

        var tooMany = await Run("submit", many, "--batch", "cli-too-many");
        var tooLong = await Run("submit", longName, "--batch", "cli-too-long");

        Assert.Equal(1, tooMany.ExitCode);
        Assert.EndsWith("The batch lists 505 files; at most 500 are allowed (Pipeline:Limits:MaxFiles).", tooMany.Error.TrimEnd(), StringComparison.Ordinal);
        Assert.Equal(1, tooLong.ExitCode);
        Assert.Contains("expected a .csv, .csv.gz or .csv.zst file name of at most 100 characters", tooLong.Error, StringComparison.Ordinal);
        using var s3 = aws.CreateS3();
        foreach (var batch in new[] { "cli-too-many", "cli-too-long" })
        {
            Assert.Empty((await s3.ListObjectsV2Async(new() { BucketName = aws.Topology.Bucket.Name, Prefix = $"data/{batch}/" })).S3Objects ?? []);
        }
    }

    [Fact]
    public async Task Without_the_emulators_a_command_says_to_start_the_AppHost()
    {
        var closed = ClosedPort();

        var run = await CliRun.RunAsync("status", "--endpoint", closed.ToString());

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("pipeline status: cannot reach AWS", run.Error, StringComparison.Ordinal);
        Assert.EndsWith("is the AppHost running? (dotnet run --project AppHost)", run.Error.TrimEnd(), StringComparison.Ordinal);
        Assert.Single(run.Error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Smoke_with_no_service_to_take_its_batch_up_fails_after_the_timeout_saying_which_service_to_look_at()
    {
        var run = await Run("smoke", "--timeout", "1");

        Assert.Equal((1, ""), (run.ExitCode, run.Out));
        var lines = run.Error.TrimEnd().Split('\n');
        Assert.Equal(
            "pipeline smoke: no Succeeded alert about pipeline-smoke within 1 s: Validate has not taken the upload up (is Validate running?)", lines[^1]);
        Assert.Contains(lines, l => l.EndsWith("its days, 1901-01-01 to 1901-01-03, have no KPIs", StringComparison.Ordinal));
        // It did submit: its BatchSubmitted waits in Validate's queue (taken out here, leaving any other message in view).
        using var sqs = AwsClientFactory.CreateSqs(aws.Aws, aws.Credentials);
        var queue = (await sqs.GetQueueUrlAsync(aws.Topology.ValidateQueue.Name)).QueueUrl;
        var received = await sqs.ReceiveMessageAsync(
            new ReceiveMessageRequest { QueueUrl = queue, WaitTimeSeconds = 2, MaxNumberOfMessages = 10, VisibilityTimeout = 0 });
        var submitted = Assert.Single(received.Messages, m => m.Body.Contains("\"batchId\":\"pipeline-smoke\"", StringComparison.Ordinal));
        Assert.Contains("\"source\":\"smoke\"", submitted.Body, StringComparison.Ordinal);
        await sqs.DeleteMessageAsync(queue, submitted.ReceiptHandle);
    }

    [Fact]
    public async Task Status_prints_a_run_record_and_lists_the_recent_runs()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, TimeProvider.System);
        var started = DateTimeOffset.UtcNow;
        await runs.BeginUploadAsync(
            new UploadStart("status-run", "data/status-run/manifest_status-run.json", "etag-6", "content-6", null, "cli", started, "m6"),
            CancellationToken.None);
        await runs.BeginUploadAsync(
            new UploadStart("status-run", "data/status-run/manifest_status-run.json", "etag-7", "content-7", null, "cli", started, "m7"),
            CancellationToken.None);
        await runs.RecordStageAsync("status-run", 2, Stages.Validate,
            new StageRecord(StageStatus.Succeeded, started, started.AddSeconds(2), new Dictionary<string, long> { ["orders"] = 9000 }),
            CancellationToken.None);
        await runs.RecordStageAsync("status-run", 2, Stages.Transform,
            new StageRecord(StageStatus.Failed, started.AddSeconds(2), started.AddSeconds(3), new Dictionary<string, long>(), "disk full"),
            CancellationToken.None);
        await runs.FailAsync("status-run", 2, "Transform failed: disk full", null, CancellationToken.None);

        var one = await Run("status", "status-run");

        Assert.Equal((0, ""), (one.ExitCode, one.Error));
        var lines = one.Out.Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.Contains("batch status-run: nothing in force", lines);
        Assert.Contains(lines, l => l.StartsWith("v1 upload Running ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("v2 upload Failed ", StringComparison.Ordinal) && l.EndsWith(" cli content-7", StringComparison.Ordinal));
        Assert.Contains("status Failed", lines);
        Assert.Contains("manifest data/status-run/manifest_status-run.json (ETag etag-7)", lines);
        Assert.Contains(lines, l => l.StartsWith("validate Succeeded ", StringComparison.Ordinal)
            && l.EndsWith(" 2.0 s orders 9000", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("transform Failed ", StringComparison.Ordinal) && l.EndsWith(" 1.0 s disk full", StringComparison.Ordinal));
        Assert.True(
            lines.IndexOf(lines.First(l => l.StartsWith("validate", StringComparison.Ordinal)))
            < lines.IndexOf(lines.First(l => l.StartsWith("transform", StringComparison.Ordinal))));
        Assert.Contains("Transform failed: disk full", lines);

        var recent = await Run("status");
        Assert.Equal(0, recent.ExitCode);
        Assert.Contains(recent.Out.Split('\n'), l => l.StartsWith("status-run ", StringComparison.Ordinal) && l.Contains(" Failed ", StringComparison.Ordinal));

        var unknown = await Run("status", "never-submitted");
        Assert.Equal((1, "pipeline status: no run recorded for batch 'never-submitted'"), (unknown.ExitCode, unknown.Error.TrimEnd()));
    }

    [Fact]
    public async Task Retract_asks_compute_for_the_version_in_force_and_refuses_a_batch_with_nothing_in_force()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, TimeProvider.System);
        var now = DateTimeOffset.UtcNow;
        foreach (var content in new[] { "c1", "c2" })
        {
            await runs.BeginUploadAsync(
                new UploadStart("retract-cli", "data/retract-cli/manifest_retract-cli.json", "etag-" + content, content, null, "cli", now, "m-" + content),
                CancellationToken.None);
        }
        await runs.SucceedAsync("retract-cli", 2, "in force", Stages.Compute, new StageRecord(StageStatus.Succeeded, now, now, new Dictionary<string, long>()),
            CancellationToken.None);
        await runs.AdvanceAppliedAsync("retract-cli", 2, CancellationToken.None);

        var asked = await Run("retract", "retract-cli", "--reason", "sent twice", "--wait", "0");

        Assert.Equal((0, ""), (asked.ExitCode, asked.Error));
        using (var summary = JsonDocument.Parse(asked.Out))
        {
            Assert.Equal(
                (2, "requested"),
                (summary.RootElement.GetProperty("retracted_version").GetInt32(), summary.RootElement.GetProperty("status").GetString()));
        }
        using var sqs = AwsClientFactory.CreateSqs(aws.Aws, aws.Credentials);
        var queue = (await sqs.GetQueueUrlAsync(aws.Topology.ComputeQueue.Name)).QueueUrl;
        var received = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queue, WaitTimeSeconds = 5 });
        using var envelope = JsonDocument.Parse(Assert.Single(received.Messages).Body);
        var message = envelope.RootElement.GetProperty("message");
        // The version it means travels with it: if another is in force by then, Compute refuses instead of retracting that one.
        Assert.Equal(("retract-cli", 2, "sent twice", "cli"), (message.GetProperty("batchId").GetString(), message.GetProperty("version").GetInt32(),
            message.GetProperty("reason").GetString(), message.GetProperty("source").GetString()));

        var unknown = await Run("retract", "never-submitted-either");
        Assert.Equal(
            (1, "pipeline retract: batch 'never-submitted-either' has nothing in force: no such batch was ever submitted"),
            (unknown.ExitCode, unknown.Error.TrimEnd()));
        var invalid = await Run("retract", "../etc");
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("not a valid batch name", invalid.Error);
    }

    [Fact]
    public async Task Kpis_prints_the_stored_rows_as_csv_by_day_by_category_and_over_days()
    {
        var firstDay = new DateOnly(2024, 6, 1);
        var partial = new BatchProcessor().Process(LocalBatchFolder.Open(Generate("kpis", 300, firstDay))).Kpis!;
        using var dynamoDb = aws.CreateDynamoDb();
        await new DynamoKpiStore(dynamoDb, aws.Topology, TimeProvider.System).AddBatchAsync("kpis", 1, partial, CancellationToken.None);
        var expected = KpiCalculator.Compute(partial);
        var category = expected.CategoryKpis[0].Category;

        var day = await Run("kpis", "--date", "20240602", "--csv");
        var byCategory = await Run("kpis", "--category", category, "--from", "2024-06-02", "--to", "2024-06-03", "--csv");
        var overDays = await Run("kpis", "--from", "2024-06-01", "--to", "2024-06-03", "--csv");

        // The generated orders span June 1 to 3; some of their items fall on June 4, outside the asked ranges.
        var (june2, june3) = (new DateOnly(2024, 6, 2), new DateOnly(2024, 6, 3));
        Assert.Equal([0, 0, 0], new[] { day.ExitCode, byCategory.ExitCode, overDays.ExitCode });
        Assert.Equal(Lines(w =>
        {
            KpiCsv.WriteOrderKpis(w, expected.OrderKpis.Where(r => r.OrderDate == june2));
            w.Write("\n");
            KpiCsv.WriteCategoryKpis(w, expected.CategoryKpis.Where(r => r.OrderDate == june2));
        }), day.Out.Split('\n'));
        Assert.Equal(
            Lines(w => KpiCsv.WriteCategoryKpis(w, expected.CategoryKpis.Where(r => r.Category == category && r.OrderDate >= june2 && r.OrderDate <= june3))),
            byCategory.Out.Split('\n'));
        Assert.Equal(Lines(w => KpiCsv.WriteOrderKpis(w, expected.OrderKpis.Where(r => r.OrderDate <= june3))), overDays.Out.Split('\n'));
    }

    [Theory]
    [InlineData("kpis")]
    [InlineData("kpis", "--date", "2024-06-01", "--category", "Jeans")]
    [InlineData("kpis", "--from", "2024-06-01")]
    [InlineData("kpis", "--date", "June 1st")]
    [InlineData("dlq", "list", "--queue", "nowhere")]
    [InlineData("smoke", "--timeout", "0")]
    [InlineData("smoke", "--timeout", "soon")]
    [InlineData("reconcile", "--from", "2024-06-02", "--to", "2024-06-01")]
    [InlineData("rebuild", "--from", "yesterday")]
    public async Task Usage_errors_exit_1_with_one_line(params string[] args)
    {
        var run = await Run(args);

        Assert.Equal(1, run.ExitCode);
        Assert.Single(run.Error.TrimEnd().Split('\n'));
        Assert.Equal("", run.Out);
    }

    [Fact]
    public async Task Dlq_lists_a_dead_letter_with_its_batch_and_reason_and_redrive_moves_it_back()
    {
        using var sqs = AwsClientFactory.CreateSqs(aws.Aws, aws.Credentials);
        var queue = (await sqs.GetQueueUrlAsync(aws.Topology.ComputeQueue.Name)).QueueUrl;
        var deadLetters = (await sqs.GetQueueUrlAsync(aws.Topology.ComputeQueue.Name + "_error")).QueueUrl;
        await sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = deadLetters,
            MessageBody = """{"messageId":"m-1","messageType":["urn:message:Pipeline.Contracts:BatchTransformed"],"message":{"batchId":"dead-batch"}}""",
            MessageAttributes = new()
            {
                ["MT-Reason"] = new MessageAttributeValue { DataType = "String", StringValue = "fault" },
                ["MT-Fault-ExceptionType"] = new MessageAttributeValue { DataType = "String", StringValue = "System.TimeoutException" },
                ["MT-Fault-Message"] = new MessageAttributeValue { DataType = "String", StringValue = "DynamoDB did not answer" },
            },
        });

        var listed = await Run("dlq", "list", "--queue", "compute");

        Assert.Equal((0, ""), (listed.ExitCode, listed.Error));
        var row = Assert.Single(listed.Out.Split('\n'), l => l.StartsWith("pipeline-compute_error ", StringComparison.Ordinal));
        Assert.Matches(@" dead-batch +fault +System\.TimeoutException: DynamoDB did not answer$", row);

        var redriven = await Run("dlq", "redrive", "--queue", "compute");

        Assert.Equal((0, "pipeline-compute_error: 1 message(s) moved back to pipeline-compute"), (redriven.ExitCode, redriven.Out.TrimEnd()));
        var back = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queue, WaitTimeSeconds = 5, MessageAttributeNames = ["All"] });
        var message = Assert.Single(back.Messages);
        Assert.Contains("dead-batch", message.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("MT-Reason", (message.MessageAttributes ?? []).Keys);
        Assert.Null((await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = deadLetters, WaitTimeSeconds = 1 })).Messages);
    }

    private static string[] Lines(Action<TextWriter> write)
    {
        var writer = new StringWriter();
        write(writer);
        return writer.ToString().Split('\n');
    }

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    private static Uri ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}");
    }
}
