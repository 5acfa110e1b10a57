using Pipeline.Contracts.Alerts;

namespace Services.Dashboard.Live;

/// <summary>The newest alert, and when the Notifier sent it.</summary>
public sealed record SentAlert(Alert Alert, DateTimeOffset SentAt);

/// <summary>
/// Where open pages learn that the pipeline changed: every alert (a batch succeeded, was rejected, failed or was
/// retracted) is reported here once this task has seen it (<see cref="LatestAlertWatcher"/>), and the newest is kept for
/// the health page.
/// </summary>
public sealed class PipelineChanges
{
    private volatile SentAlert? _lastAlert;

    /// <summary>Raised on the watcher's thread; a page hands it to its renderer (InvokeAsync).</summary>
    public event Action<Alert>? AlertReceived;

    /// <summary>The newest alert (one reference: read whole or not at all); null before the first is seen.</summary>
    public SentAlert? LastAlert => _lastAlert;

    /// <summary>Keeps <paramref name="latest"/> as the newest alert; with <paramref name="changed"/>, the open pages read again.</summary>
    public void Report(SentAlert latest, bool changed)
    {
        _lastAlert = latest;
        if (changed)
        {
            AlertReceived?.Invoke(latest.Alert);
        }
    }
}
