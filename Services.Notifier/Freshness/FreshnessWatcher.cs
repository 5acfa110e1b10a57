using EventBus.AwsSqs;
using Microsoft.Extensions.Options;
using Pipeline.Engine.DataQuality;
using Pipeline.Storage.DataQuality;
using Pipeline.Storage.Kpis;
using Services.Notifier.Alerts;

namespace Services.Notifier.Freshness;

/// <summary>
/// Checks the declared freshness expectation every <see cref="FreshnessOptions.CheckInterval"/>: reads the window's order
/// KPI rows and verdicts, records each day that changes (conditionally, so two Notifier tasks record it once), and sends
/// each late or recovered day's alert once (idempotent alert ids), noting it sent. A round that fails is retried at the next.
/// </summary>
public sealed partial class FreshnessWatcher(
    KpiQueries kpis, FreshnessStore store, AlertPublisher alerts, IOptions<FreshnessOptions> options, TimeProvider clock,
    ILogger<FreshnessWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            LogOff();
            return;
        }
        var expectation = settings.Expectation();
        var now = settings.Clock(clock);
        using var timer = new PeriodicTimer(settings.CheckInterval, clock);
        do
        {
            try
            {
                await CheckAsync(expectation, now.GetUtcNow(), stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogCheckFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task CheckAsync(FreshnessExpectation expectation, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (from, to) = expectation.Window(now);
        var covered = (await kpis.GetDaysAsync(from, to, cancellationToken).ConfigureAwait(false))
            .Where(FreshnessRule.Covers).Select(row => row.OrderDate).ToHashSet();
        var recorded = await store.ReadAsync(from, to, cancellationToken).ConfigureAwait(false);
        var changes = FreshnessRule.Changes(expectation, now, covered, recorded.ToDictionary(d => d.Day));
        foreach (var change in changes)
        {
            if (await store.ChangeAsync(change, now, cancellationToken).ConfigureAwait(false))
            {
                LogChanged(change.Day, change.To, change.Deadline);
            }
        }
        if (changes.Count > 0)
        {
            recorded = await store.ReadAsync(from, to, cancellationToken).ConfigureAwait(false);
        }
        foreach (var day in recorded.Where(d => d.NeedsAlert))
        {
            try
            {
                await alerts.PublishOnceAsync(day.Status == FreshnessStatus.Late ? AlertComposer.Late(day) : AlertComposer.Recovered(day), cancellationToken)
                    .ConfigureAwait(false);
                await store.MarkAnnouncedAsync(day, cancellationToken).ConfigureAwait(false);
            }
            catch (IdempotencyConflictException)
            {
                // Another Notifier task is sending it right now; it notes it sent.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Freshness check is off (Freshness:Enabled is false)")]
    private partial void LogOff();

    [LoggerMessage(Level = LogLevel.Information, Message = "Freshness of {Day}: {Status} (deadline {Deadline:u})")]
    private partial void LogChanged(DateOnly day, FreshnessStatus status, DateTimeOffset deadline);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking freshness failed; retrying at the next interval")]
    private partial void LogCheckFailed(Exception exception);
}
