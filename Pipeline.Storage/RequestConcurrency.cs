namespace Pipeline.Storage;

/// <summary>How many requests one storage operation keeps in flight at once (days folded, files read, key pages claimed).</summary>
internal static class RequestConcurrency
{
    public const int RequestsAtOnce = 8;

    /// <summary>
    /// S3 copies at once when a batch's files are archived: S3 has no batch copy, and a seed batch's 27 copies in rounds of
    /// <see cref="RequestsAtOnce"/> would be four round trips one after another instead of one.
    /// </summary>
    public const int CopiesAtOnce = 32;

    public static ParallelOptions Options(CancellationToken cancellationToken, int atOnce = RequestsAtOnce) =>
        new() { MaxDegreeOfParallelism = atOnce, CancellationToken = cancellationToken };
}
