namespace Pipeline.Engine.Csv;

/// <summary>
/// Work done so far (bytes read by the batch processor, orders written by the generator), updated by
/// the workers and polled by a progress display.
/// </summary>
public sealed class ProgressCounter
{
    private long _done;

    public long Done => Interlocked.Read(ref _done);

    internal void Add(long amount) => Interlocked.Add(ref _done, amount);
}
