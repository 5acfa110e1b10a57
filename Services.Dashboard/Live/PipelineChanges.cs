using Pipeline.Contracts.Alerts;

namespace Services.Dashboard.Live;

/// <summary>An alert as the dashboard received it.</summary>
public sealed record ReceivedAlert(Alert Alert, DateTimeOffset ReceivedAt);

/// <summary>
/// Where open pages learn that the pipeline changed: every alert (a batch succeeded, was rejected, failed or was
/// retracted) is reported here as it arrives on the dashboard's queue, and the last one is kept for the health page.
/// </summary>
public sealed class PipelineChanges(TimeProvider clock)
{
    private volatile ReceivedAlert? _lastAlert;

    /// <summary>Raised on the receiving thread; a page hands it to its renderer (InvokeAsync).</summary>
    public event Action<Alert>? AlertReceived;

    /// <summary>The newest alert since the dashboard started, and when it arrived (one reference: read whole or not at all).</summary>
    public ReceivedAlert? LastAlert => _lastAlert;

    public void Report(Alert alert)
    {
        _lastAlert = new ReceivedAlert(alert, clock.GetUtcNow());
        AlertReceived?.Invoke(alert);
    }
}
