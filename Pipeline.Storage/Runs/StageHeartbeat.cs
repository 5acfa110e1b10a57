namespace Pipeline.Storage.Runs;

/// <summary>
/// Keeps a running version's <c>updated_at</c> fresh while a stage works on it, so that a long stage is never taken
/// for a stuck one. Touches once a minute until disposed; a failed touch is left to the next one.
/// </summary>
public sealed class StageHeartbeat : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _beating;

    internal StageHeartbeat(PipelineRunStore runs, string batchId, int version, TimeProvider clock) =>
        _beating = BeatAsync(runs, batchId, version, clock, _stop.Token);

    private static async Task BeatAsync(PipelineRunStore runs, string batchId, int version, TimeProvider clock, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await runs.TouchAsync(batchId, version, stop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The next beat tries again; the stall timeout is many beats long.
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _beating.ConfigureAwait(false);
        _stop.Dispose();
    }
}
