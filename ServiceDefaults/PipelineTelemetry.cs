using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The activity source and meter of the pipeline's own spans and metrics, exported by
/// <see cref="Extensions.ConfigureOpenTelemetry{TBuilder}"/>.
/// </summary>
public static class PipelineTelemetry
{
    public const string Name = "Pipeline";

    /// <summary>The event bus's activity source and meter (EventBus.AwsSqs's <c>EventBusTelemetry.Name</c>).</summary>
    public const string EventBusName = "EventBus";

    public static readonly ActivitySource ActivitySource = new(Name);

    /// <summary>
    /// Every activity source of a batch's trace: the stages, the event bus, and the AWS calls (the SDK's spans and our SNS
    /// client's), named and tagged as the OpenTelemetry AWS SDK conventions have them (<c>S3.HeadObject</c>, ...).
    /// </summary>
    public static readonly string[] TraceSources =
        [Name, EventBusName, ServiceDefaults.Aws.AwsTracing.ActivitySourceName, Aws.Sns.SnsClient.ActivitySourceName];

    /// <summary>
    /// Whether the HTTP call whose span is <paramref name="http"/> is traced: only inside an operation (calls outside any
    /// are polls: long-polling receives, backlog and dead-letter checks, which as root traces would bury the batches'), and
    /// not under an AWS call's span, which says what the call was (<c>S3.HeadObject</c> rather than <c>HEAD</c>).
    /// </summary>
    public static bool TraceHttpCall(Activity? http) =>
        http?.Parent is { } parent && !ServiceDefaults.Aws.AwsTracing.IsAwsCall(parent) && parent.Source.Name != Aws.Sns.SnsClient.ActivitySourceName;
    public static readonly Meter Meter = new(Name);

    private static readonly Histogram<double> StageDuration = Meter.CreateHistogram<double>(
        "pipeline.stage.duration", "s", "How long a stage took for one batch, by stage and outcome");

    private static readonly Counter<long> StageRows = Meter.CreateCounter<long>(
        "pipeline.stage.rows", "{row}", "Rows a stage handled, by stage and table");

    private static readonly Counter<long> StageBatches = Meter.CreateCounter<long>(
        "pipeline.stage.batches", "{batch}", "Batches a stage finished, by stage and outcome (succeeded, rejected)");

    /// <summary>A span around one stage's work on one batch; the bus's process span is its parent, so the batch's trace continues.</summary>
    public static Activity? StartStage(string stage, string batchId)
    {
        var activity = ActivitySource.StartActivity($"{stage} batch");
        activity?.SetTag("pipeline.stage", stage);
        activity?.SetTag("pipeline.batch.id", batchId);
        return activity;
    }

    /// <summary>
    /// Tags the current span with the batch, and, when this process began the trace (a batch announced by an S3 event or
    /// by a producer that sends no trace context), names the trace after the batch: <c>batch 20250409</c>. A trace that
    /// <c>pipeline submit</c> began is named by the command already (<c>submit 20250409</c>).
    /// </summary>
    public static void NameTrace(string batchId)
    {
        var current = Activity.Current;
        current?.SetTag("pipeline.batch.id", batchId);
        var root = current;
        while (root?.Parent is { } parent)
        {
            root = parent;
        }
        if (root is not null && root.ParentSpanId == default && !root.HasRemoteParent)
        {
            root.DisplayName = $"batch {batchId}";
            root.SetTag("pipeline.batch.id", batchId);
        }
    }

    public static void StageFinished(string stage, string outcome, TimeSpan duration, IReadOnlyDictionary<string, long> rows)
    {
        var stageTag = new KeyValuePair<string, object?>("pipeline.stage", stage);
        StageDuration.Record(duration.TotalSeconds, stageTag, new("pipeline.outcome", outcome));
        StageBatches.Add(1, stageTag, new("pipeline.outcome", outcome));
        foreach (var (table, count) in rows)
        {
            StageRows.Add(count, stageTag, new("pipeline.table", table));
        }
        Activity.Current?.SetTag("pipeline.outcome", outcome);
    }
}
