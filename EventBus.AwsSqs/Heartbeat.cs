namespace EventBus.AwsSqs;

/// <summary>
/// Renews something (a message's visibility, a lease) every interval while work runs, until disposed. A failed renewal
/// is reported and the next one made on time (the ticks keep their cadence however long a renewal takes), whatever it
/// threw: only the stop ends the renewals, so disposing never throws.
/// </summary>
internal sealed class Heartbeat : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PeriodicTimer _ticks;
    private readonly Task _beating;

    /// <param name="failed">Told of each renewal that failed; must not throw.</param>
    /// <param name="clock">What the interval is measured on.</param>
    /// <param name="abort">Also stops the renewals (the work is being abandoned).</param>
    public Heartbeat(TimeSpan interval, Func<CancellationToken, Task> renew, Action<Exception> failed, TimeProvider clock, CancellationToken abort = default)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(abort);
        _ticks = new PeriodicTimer(interval, clock);
        _beating = BeatAsync(_ticks, renew, failed, _stop.Token);
    }

    private static async Task BeatAsync(PeriodicTimer ticks, Func<CancellationToken, Task> renew, Action<Exception> failed, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await ticks.WaitForNextTickAsync(stopping).ConfigureAwait(false);
                await renew(stopping).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The SDK throws cancellation and disposal for timed-out calls too: only the stop tells them apart.
                if (!stopping.IsCancellationRequested)
                {
                    failed(e);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _beating.ConfigureAwait(false);
        _ticks.Dispose();
        _stop.Dispose();
    }
}
