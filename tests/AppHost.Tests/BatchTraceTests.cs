using System.Diagnostics;
using Pipeline.Contracts.Alerts;
using Pipeline.Testing;

namespace AppHost.Tests;

/// <summary>
/// What a person sees in the dashboard's trace list: one trace per batch, begun by <c>pipeline submit</c> and named after
/// the batch, with spans from every service and AWS calls named as the OpenTelemetry AWS SDK conventions say; and no
/// traces of polls. Read from the spans the services and the command line export by OTLP (as the dashboard gets them).
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class BatchTraceTests(EmulatorAppFixture app)
{
    private static readonly TimeSpan SpanTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task One_batch_is_one_trace_from_pipeline_submit_to_the_alert_through_every_service()
    {
        using var driver = new PipelineDriver(app);
        var batch = $"traced-{Guid.NewGuid():N}"[..20];
        var folder = PipelineDriver.Generate(300, new DateOnly(2018, 6, 1), seed: 17, days: 2);

        var (exitCode, output) = await RunCliAsync("submit", folder, "--batch", batch);
        Assert.True(exitCode == 0, $"pipeline submit exited {exitCode}: {output}");
        Assert.Equal(AlertStatus.Succeeded, (await driver.NextAlertAsync(batch)).Status);

        // The root: the command's span, named after the batch.
        var root = (await app.Traces.WaitForAsync(spans => spans.Any(s => IsRootOf(s, batch)), SpanTimeout, $"the root span of {batch}"))
            .Single(s => IsRootOf(s, batch));
        Assert.Equal(("pipeline-cli", $"submit {batch}"), (root.Service, root.Name));

        // Every service's spans hang below it, up to the alert (the notifier's last span ends after it was sent).
        var trace = await app.Traces.WaitForAsync(spans =>
        {
            var inTrace = spans.Where(s => s.TraceId == root.TraceId).ToList();
            var ids = inTrace.Select(s => s.SpanId).ToHashSet();
            return EmulatorAppFixture.Services.All(service => inTrace.Any(s => s.Service == service))
                && inTrace.Any(s => s.Name == "notify batch" && s.Service == "notifier")
                && inTrace.All(s => s.IsRoot || ids.Contains(s.ParentSpanId!));
        }, SpanTimeout, $"spans of every service in trace {root.TraceId}, connected to its root");
        var spans = trace.Where(s => s.TraceId == root.TraceId).ToList();
        Assert.Equal([root], spans.Where(s => s.IsRoot));
        // The dashboard is in it too once a poll has seen the alert (LatestAlertWatcher.ChangeSeenSpan), which may be later.
        Assert.Equal(["compute", "notifier", "pipeline-cli", "transform", "validate"],
            spans.Select(s => s.Service).Distinct().Where(s => s != "dashboard").Order(StringComparer.Ordinal));
        foreach (var stage in new[] { "validate batch", "transform batch", "compute batch", "notify batch" })
        {
            Assert.Equal(batch, Assert.Single(spans, s => s.Name == stage)["pipeline.batch.id"]);
        }

        // One trace per batch: nothing the pipeline did about this batch is in any other trace, the dashboard's seeing its
        // alert included (LatestAlertWatcher.ChangeSeenSpan continues the Notifier's span, whenever its poll comes).
        Assert.All(app.Traces.Spans.Where(s => s["pipeline.batch.id"] == batch), s => Assert.Equal(root.TraceId, s.TraceId));

        // Readable spans: AWS calls as Service.Operation with what they touched, never a bare HTTP call.
        Assert.DoesNotContain(spans, s => s.Scope == "System.Net.Http" || s.Name.Split(' ')[0] is "GET" or "PUT" or "POST" or "HEAD" or "DELETE" or "HTTP");
        var bucket = driver.Topology.Bucket.Name;
        Assert.Contains(spans, s => (s.Service, s.Name, s["rpc.system"], s["rpc.service"], s["rpc.method"], s["aws.s3.bucket"], s["aws.s3.key"])
            == ("validate", "S3.HeadObject", "aws-api", "S3", "HeadObject", bucket, $"data/{batch}/manifest_{batch}.json"));
        Assert.Contains(spans, s => s.Service == "transform" && s.Name == "S3.PutObject" && s["aws.s3.bucket"] == bucket
            && s["aws.s3.key"]!.StartsWith($"transformed/{batch}/", StringComparison.Ordinal));
        var runsTable = driver.Topology.PipelineRunsTable.Name;
        Assert.Contains(spans, s => s.Service == "compute" && s.Name.StartsWith("DynamoDB.", StringComparison.Ordinal)
            && s["rpc.system"] == "aws-api" && s["db.system"] == "dynamodb" && s["aws.dynamodb.table_names"] == runsTable);
        Assert.Contains(spans, s => (s.Service, s.Name, s["rpc.service"], s["messaging.destination.name"])
            == ("validate", "SNS.Publish", "SNS", "Pipeline_Contracts-BatchValidated")
            && s["aws.sns.topic.arn"]!.EndsWith(":Pipeline_Contracts-BatchValidated", StringComparison.Ordinal));
        Assert.Contains(spans, s => (s.Service, s.Name) == ("notifier", "SNS.Publish")
            && s["aws.sns.topic.arn"]!.EndsWith(":" + driver.Topology.AlertsTopic.Name, StringComparison.Ordinal));
        // The hops between services: a consumer span per message, a child of the publishing span in the service before.
        var process = Assert.Single(spans, s => s.Service == "transform" && s.Name == $"process {driver.Topology.TransformQueue.Name}");
        Assert.Equal(5, process.Kind); // SPAN_KIND_CONSUMER
        Assert.Equal(
            ("validate", "publish Pipeline_Contracts-BatchValidated"),
            spans.Single(s => s.SpanId == process.ParentSpanId) is var p ? (p.Service, p.Name) : default);
    }

    [Fact]
    public async Task Polls_health_probes_and_receives_start_no_trace_and_a_batch_without_trace_context_is_named_at_Validate()
    {
        // A producer that sends no trace context (this driver records no spans): the trace begins at Validate.
        using var driver = new PipelineDriver(app);
        var batch = $"untraced-{Guid.NewGuid():N}"[..20];
        await driver.SubmitAsync(PipelineDriver.Generate(100, new DateOnly(2018, 7, 1), seed: 18, days: 1), batch);
        Assert.Equal(AlertStatus.Succeeded, (await driver.NextAlertAsync(batch)).Status);
        var root = (await app.Traces.WaitForAsync(spans => spans.Any(s => IsRootOf(s, batch)), SpanTimeout, $"the root span of {batch}"))
            .Single(s => IsRootOf(s, batch));
        Assert.Equal(("validate", $"batch {batch}"), (root.Service, root.Name));

        // Rounds of every poll since, each shown by what it did: the notifier's dead-letter and run checks (every 2 s here)
        // report two dead letters, one after the other, so a whole round ran between; another batch goes through every
        // service's receive loop. (Each queue's backlog is read as its endpoint starts, before the app is healthy.)
        for (var letter = 1; letter <= 2; letter++)
        {
            await driver.ReportDeadLetterAsync($"{batch}-letter{letter}");
        }
        var sentinel = $"sentinel-{Guid.NewGuid():N}"[..20];
        await driver.SubmitAsync(PipelineDriver.Generate(20, new DateOnly(2018, 7, 2), seed: 18, days: 1), sentinel);
        Assert.Equal(AlertStatus.Succeeded, (await driver.NextAlertAsync(sentinel)).Status);
        // Each process exports its spans in the order they end: once the sentinel's are in from every service, so is any
        // span that a poll made before.
        await app.Traces.WaitForAsync(
            spans => EmulatorAppFixture.Services.All(service => spans.Any(s => s.Service == service && s["pipeline.batch.id"] == sentinel)),
            SpanTimeout, $"spans of {sentinel} from every service");
        var roots = app.Traces.Spans.Where(s => s.IsRoot).ToList();
        // A page or API request another test of the app makes is a trace of its own; a probe or a circuit's transport is not.
        Assert.DoesNotContain(roots, s => s.Scope is "Amazon.AWSSDK" or "Aws.Sns" or "System.Net.Http"
            || (s.Scope is "Microsoft.AspNetCore" && (s.Name.Contains(" /health", StringComparison.Ordinal)
                || s.Name.Contains(" /alive", StringComparison.Ordinal) || s.Name.Contains(" /_blazor", StringComparison.Ordinal)))
            || s.Name.StartsWith("receive ", StringComparison.Ordinal));
        Assert.Single(roots, s => s["pipeline.batch.id"] == batch);
    }

    private static bool IsRootOf(ReceivedSpan span, string batch) => span.IsRoot && span["pipeline.batch.id"] == batch;

    /// <summary>Runs the built <c>pipeline</c> command against the fixture's emulators, exporting its spans to the fixture's receiver.</summary>
    private async Task<(int ExitCode, string Output)> RunCliAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(CliPath());
        foreach (var arg in args.Concat(app.Aws.CliEndpointArguments()))
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in app.Traces.ExporterEnvironment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    /// <summary>The command line's build output, in the configuration of this test build (built through the project reference).</summary>
    private static string CliPath()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        return Path.Combine(RepositoryFolder.Root, "Pipeline.Cli", "bin", testOutput.Parent!.Name, testOutput.Name, "pipeline.dll");
    }
}
