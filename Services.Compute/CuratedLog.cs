using Pipeline.Storage.Curated;

namespace Services.Compute;

/// <summary>The one line Compute logs after bringing a batch's Parquet under <c>curated/</c> to its version in force.</summary>
internal static partial class CuratedLog
{
    public static void LogCurated(this ILogger logger, string batchId, CuratedSync? sync)
    {
        if (sync is null)
        {
            LogCuratedOff(logger, batchId);
        }
        else
        {
            LogCuratedSynced(logger, batchId, sync.Version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (retracted)",
                sync.Days.Count, sync.Days.Sum(d => d.Rows), sync.Deleted, sync.Rounds);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Batch {BatchId}: curated/ holds version {Version}: {Days} days ({Rows} items); {Deleted} days gone deleted; {Rounds} rounds")]
    private static partial void LogCuratedSynced(ILogger logger, string batchId, string version, int days, long rows, int deleted, int rounds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Batch {BatchId}: curated output is off (Curated:Enabled); curated/ left as it is")]
    private static partial void LogCuratedOff(ILogger logger, string batchId);
}
