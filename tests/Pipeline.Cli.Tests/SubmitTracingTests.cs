using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Amazon.SQS.Model;
using Microsoft.Extensions.Hosting;
using Pipeline.Engine.Generation;
using Pipeline.Storage.Tests;
using ServiceDefaults.Aws;

namespace Pipeline.Cli.Tests;

/// <summary>
/// <c>pipeline submit</c> starts its batch's trace: the spans it records (always, with or without an exporter) and the
/// trace context that <c>BatchSubmitted</c> carries to Validate.
/// </summary>
public sealed class SubmitTracingTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>, IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("pipeline-cli-tracing-");

    public void Dispose() => _root.Delete(recursive: true);

    /// <summary>Records every span the command's sources stop, as an exporter would get them.</summary>
    private ActivityListener Listen()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is CliTelemetry.SourceName || PipelineTelemetry.TraceSources.Contains(source.Name),
            // Records nothing by itself: what is recorded is what the command's own tracer provider decides.
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
            ActivityStopped = activity =>
            {
                if (activity.Recorded)
                {
                    _stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private string Generate(string name)
    {
        var folder = Path.Combine(_root.FullName, name);
        SyntheticBatchGenerator.Generate(folder, new GeneratorOptions(100, Parts: 2, Seed: 3, Days: 2, Products: 20) { FirstDay = new DateOnly(2023, 5, 1) });
        return folder;
    }

    /// <summary>The <c>BatchSubmitted</c> for <paramref name="batch"/> from the validate queue: its traceparent attribute and envelope header.</summary>
    private async Task<(string Attribute, string Header)> TraceContextOfSubmissionAsync(string batch)
    {
        using var sqs = AwsClientFactory.CreateSqs(aws.Aws, aws.Credentials);
        var queue = (await sqs.GetQueueUrlAsync(aws.Topology.ValidateQueue.Name)).QueueUrl;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var received = await sqs.ReceiveMessageAsync(
                new ReceiveMessageRequest { QueueUrl = queue, WaitTimeSeconds = 2, MaxNumberOfMessages = 10, MessageAttributeNames = ["All"] });
            foreach (var message in received.Messages ?? [])
            {
                await sqs.DeleteMessageAsync(queue, message.ReceiptHandle);
                using var envelope = JsonDocument.Parse(message.Body);
                if (envelope.RootElement.GetProperty("message").GetProperty("batchId").GetString() == batch)
                {
                    return (message.MessageAttributes["traceparent"].StringValue,
                        envelope.RootElement.GetProperty("headers").GetProperty("traceparent").GetString()!);
                }
            }
        }
        throw new InvalidOperationException($"no BatchSubmitted for {batch} in the validate queue");
    }

    [Fact]
    public async Task Submit_is_the_root_of_its_batchs_trace_and_BatchSubmitted_carries_its_context_with_no_exporter()
    {
        Assert.Null(Environment.GetEnvironmentVariable(CliTelemetry.EndpointVariable));
        using var listener = Listen();

        var run = await CliRun.RunAsync(aws, "submit", Generate("traced"), "--batch", "cli-traced");
        Assert.Equal((0, ""), (run.ExitCode, run.Error));

        var root = Assert.Single(_stopped, a => a.Source.Name == CliTelemetry.SourceName);
        Assert.Equal("submit cli-traced", root.DisplayName);
        Assert.Equal(default, root.ParentSpanId);
        Assert.Equal("cli-traced", root.Tag("pipeline.batch.id"));

        var (attribute, header) = await TraceContextOfSubmissionAsync("cli-traced");
        Assert.Equal(attribute, header);
        var sent = ActivityContext.Parse(attribute, null);
        Assert.Equal(root.TraceId, sent.TraceId);
        // The message's parent is the publish span, a child of the command's root.
        var publish = Assert.Single(_stopped, a => a.SpanId == sent.SpanId);
        Assert.Equal("publish Pipeline_Contracts-BatchSubmitted", publish.DisplayName);
        Assert.Equal(root.SpanId, publish.ParentSpanId);

        // Every span of the command is in that one trace, and its AWS calls are named as the OpenTelemetry AWS SDK conventions say.
        Assert.All(_stopped, a => Assert.Equal(root.TraceId, a.TraceId));
        var manifest = Assert.Single(_stopped, a => a.DisplayName == "S3.PutObject" && Equals(a.Tag("aws.s3.key"), "data/cli-traced/manifest_cli-traced.json"));
        Assert.Equal(ActivityKind.Client, manifest.Kind);
        Assert.Equal(("aws-api", "S3", "PutObject", aws.Topology.Bucket.Name),
            (manifest.Tag("rpc.system"), manifest.Tag("rpc.service"), manifest.Tag("rpc.method"), manifest.Tag("aws.s3.bucket")));
        var sns = Assert.Single(_stopped, a => a.DisplayName == "SNS.Publish");
        Assert.Equal(publish.SpanId, sns.ParentSpanId);
        Assert.Equal(("aws-api", "SNS", "Publish", "Pipeline_Contracts-BatchSubmitted"),
            (sns.Tag("rpc.system"), sns.Tag("rpc.service"), sns.Tag("rpc.method"), sns.Tag("messaging.destination.name")));
        Assert.EndsWith(":Pipeline_Contracts-BatchSubmitted", sns.Tag("aws.sns.topic.arn"));
    }

    [Fact]
    public async Task Submit_with_an_OTLP_endpoint_where_nothing_listens_still_succeeds_and_sends_trace_context()
    {
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        Environment.SetEnvironmentVariable(CliTelemetry.EndpointVariable, $"http://127.0.0.1:{port}");
        try
        {
            var clock = Stopwatch.StartNew();
            var run = await CliRun.RunAsync(aws, "submit", Generate("traced-no-collector"), "--batch", "cli-traced-2");
            Assert.Equal((0, ""), (run.ExitCode, run.Error));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"submit took {clock.Elapsed} with no collector listening");
        }
        finally
        {
            Environment.SetEnvironmentVariable(CliTelemetry.EndpointVariable, null);
        }
        var (attribute, _) = await TraceContextOfSubmissionAsync("cli-traced-2");
        Assert.NotEqual(default, ActivityContext.Parse(attribute, null).TraceId);
    }
}
