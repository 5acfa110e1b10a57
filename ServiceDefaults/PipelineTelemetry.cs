using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Microsoft.Extensions.Hosting;

/// <summary>The activity source and meter of the pipeline's own spans and metrics, exported by <see cref="Extensions.ConfigureOpenTelemetry{TBuilder}"/>.</summary>
public static class PipelineTelemetry
{
    public const string Name = "Pipeline";

    /// <summary>The event bus's activity source and meter (EventBus.AwsSqs's <c>EventBusTelemetry.Name</c>).</summary>
    public const string EventBusName = "EventBus";

    public static readonly ActivitySource ActivitySource = new(Name);
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
