using System.Collections.Concurrent;

namespace Pipeline.Storage.Kpis;

/// <summary>
/// One process's folds of the same days, one after another. Folds that share days race for the same day items (a read, a
/// conditional write, a read and a write again when another fold wrote first) and write each other's KPI rows again:
/// with a Compute instance folding several batches at once into the same 31 days, a third of its DynamoDB calls were that
/// (the small-batches benchmark counts them). Folds of other days go on at the same time; folds in other processes (other
/// replicas) still race, and the conditional writes keep them exact. A day's lock is kept for the process's life (a
/// semaphore per day ever folded).
/// </summary>
internal sealed class DayLocks
{
    private readonly ConcurrentDictionary<DateOnly, SemaphoreSlim> _days = new();

    /// <summary>
    /// Waits until no other fold of this process holds any of <paramref name="days"/>, taking them in ascending order, so
    /// that two folds never wait for each other; disposing the result releases them.
    /// </summary>
    public async Task<IDisposable> AcquireAsync(IEnumerable<DateOnly> days, CancellationToken cancellationToken)
    {
        var held = new Held();
        try
        {
            foreach (var day in days.Distinct().Order())
            {
                var gate = _days.GetOrAdd(day, _ => new SemaphoreSlim(1, 1));
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                held.Gates.Add(gate);
            }
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    private sealed class Held : IDisposable
    {
        public List<SemaphoreSlim> Gates { get; } = [];

        public void Dispose() => Gates.ForEach(gate => gate.Release());
    }
}
