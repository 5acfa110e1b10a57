using System.Diagnostics;
using Microsoft.Extensions.Options;
using Pipeline.Contracts.Alerts;
using Pipeline.Storage.Alerts;

namespace Services.Dashboard.Live;

/// <summary>How often a dashboard task reads the latest-alert item (configuration section <c>Dashboard</c>).</summary>
public sealed class LatestAlertWatcherOptions
{
    public const string SectionName = "Dashboard";

    /// <summary>How long at most between an alert and the open pages' refresh (one GetItem per interval, however many pages).</summary>
    public TimeSpan ChangePollInterval { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Reads the latest-alert item every <see cref="LatestAlertWatcherOptions.ChangePollInterval"/> and reports a new alert to
/// <see cref="PipelineChanges"/>, which refreshes this task's open pages. Every dashboard task polls the same item, so each
/// sees every change; nothing is created per task, so a task that dies leaves nothing behind. The first read only learns
/// the newest alert (for the health page): the pages drawn after it read their data anyway.
/// </summary>
public sealed partial class LatestAlertWatcher(
    LatestAlertStore store, PipelineChanges changes, IOptions<LatestAlertWatcherOptions> options, TimeProvider clock, ILogger<LatestAlertWatcher> logger)
    : BackgroundService
{
    /// <summary>
    /// The span a task starts when it sees a new alert, in the batch's trace (a child of the Notifier's span that sent the
    /// alert); the pages' reads it causes are its children.
    /// </summary>
    public const string ChangeSeenSpan = "dashboard alert seen";

    /// <summary>The alert count last read (0: none yet); null before the first read.</summary>
    private long? _seen;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ChangePollInterval, clock);
        do
        {
            try
            {
                await ReadAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogReadFailed(e); // the next round tries again; the pages keep what they show
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        var latest = await store.ReadAsync(cancellationToken).ConfigureAwait(false);
        var first = _seen is null;
        if (latest is null || latest.Count == _seen)
        {
            _seen ??= latest?.Count ?? 0;
            return;
        }
        _seen = latest.Count;
        var alert = Alert.FromJson(latest.AlertJson);
        // Without the sender's context (an alert noted by an untraced Notifier) the span begins a trace of its own.
        ActivityContext.TryParse(latest.TraceParent, null, out var sentIn);
        using var activity = first ? null : PipelineTelemetry.ActivitySource.StartActivity(ChangeSeenSpan, ActivityKind.Internal, sentIn);
        activity?.SetTag("pipeline.batch.id", alert.BatchId);
        activity?.SetTag("pipeline.alert.id", alert.AlertId);
        activity?.SetTag("process.pid", Environment.ProcessId);
        changes.Report(new SentAlert(alert, latest.SentAt), changed: !first);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the latest alert; open pages refresh once it can be read again")]
    private partial void LogReadFailed(Exception exception);
}
