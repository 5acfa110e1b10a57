using Pipeline.Contracts.Alerts;

namespace Services.Dashboard.Live;

/// <summary>
/// Where open pages learn that the pipeline changed: every alert (a batch succeeded, was rejected, failed or was
/// retracted) is reported here as it arrives on the dashboard's queue, and the last one is kept for the health page.
/// </summary>
public sealed class PipelineChanges(TimeProvider clock)
{
    private readonly object _gate = new();

    /// <summary>Raised on the receiving thread; a page hands it to its renderer (InvokeAsync).</summary>
    public event Action<Alert>? AlertReceived;

    /// <summary>The newest alert since the dashboard started, and when it arrived.</summary>
    public (Alert Alert, DateTimeOffset ReceivedAt)? LastAlert { get; private set; }

    public void Report(Alert alert)
    {
        lock (_gate)
        {
            LastAlert = (alert, clock.GetUtcNow());
        }
        AlertReceived?.Invoke(alert);
    }
}
