namespace Services.Dashboard.Reading;

/// <summary>
/// One read shared by every caller, until it is forgotten or, with a lifetime, older than that; a read that failed or
/// was cancelled is made again by the next caller.
/// </summary>
internal sealed class SharedRead<T>(Func<Task<T>> read, TimeProvider clock, TimeSpan? lifetime = null)
{
    private readonly Lock _gate = new();
    private (Task<T> Read, DateTimeOffset At)? _last;

    public Task<T> GetAsync()
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            if (_last is not { } last || last.Read.IsFaulted || last.Read.IsCanceled || (lifetime is { } max && now - last.At >= max))
            {
                _last = (read(), now);
            }
            return _last.Value.Read;
        }
    }

    public void Forget()
    {
        lock (_gate)
        {
            _last = null;
        }
    }
}
