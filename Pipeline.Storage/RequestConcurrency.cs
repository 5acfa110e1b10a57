namespace Pipeline.Storage;

/// <summary>How many requests one storage operation keeps in flight at once (days folded, files read, key pages claimed).</summary>
internal static class RequestConcurrency
{
    public const int RequestsAtOnce = 8;

    public static ParallelOptions Options(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = RequestsAtOnce, CancellationToken = cancellationToken };
}
