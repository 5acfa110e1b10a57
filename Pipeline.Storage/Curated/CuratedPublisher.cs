using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Curated;
using Pipeline.Engine.Transform;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;
using Pipeline.Topology;

namespace Pipeline.Storage.Curated;

/// <summary>What a sync left under <c>curated/</c> for a batch.</summary>
/// <param name="Version">The version in force whose Parquet is there now; null when none is (retracted, or none accepted yet).</param>
/// <param name="Days">That version's days, each one object, with its rows.</param>
/// <param name="Deleted">Days the batch touched once and no longer does: their objects were deleted (absent ones cost nothing).</param>
/// <param name="Rounds">How many times the version in force was written: more than one when it changed during the sync.</param>
public sealed record CuratedSync(int? Version, IReadOnlyList<CuratedDayFile> Days, int Deleted, int Rounds);

/// <summary>
/// Keeps <c>curated/order_items/</c> (<see cref="PipelineTopology.CuratedOrderItems"/>) equal to the enriched order items of
/// each batch's version in force: one Parquet object per order date and batch,
/// <c>curated/order_items/order_date=YYYY-MM-DD/&lt;batch&gt;.parquet</c>, keyed by batch and not by version, so that a
/// replacement overwrites each day in one PUT (a reader sees the batch's day wholly old or wholly new) and an order, which
/// belongs to one batch, is never in two objects. <see cref="SyncAsync"/> is idempotent and converges: a stale sync (of a
/// version replaced meanwhile) ends by writing the version in force again. See docs/pipeline.md, "Curated Parquet".
/// </summary>
public sealed class CuratedPublisher(IAmazonS3 s3, S3BatchStore batches, PipelineRunStore runs, DynamoKpiStore kpis, IOptions<CuratedOptions> options)
{
    /// <summary>The user metadata (<c>x-amz-meta-pipeline-version</c>) naming the version an object holds.</summary>
    public const string VersionMetadata = "pipeline-version";

    /// <summary>DeleteObjects' limit of keys a request.</summary>
    private const int KeysPerDelete = 1000;

    private static CuratedTableSpec Table => PipelineTopology.CuratedOrderItems;

    /// <summary>The object of <paramref name="batchId"/>'s items on <paramref name="day"/>.</summary>
    public static string KeyOf(string batchId, DateOnly day) =>
        $"{Table.Prefix}{Table.PartitionColumn}={day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}/{batchId}.parquet";

    /// <summary>
    /// Starts writing version <paramref name="version"/>'s Parquet to local files now, while the caller does other work
    /// (Compute: the fold), for <see cref="SyncAsync"/> to upload if that version is still in force then. Null when
    /// curated output is off. Disposing it stops it and deletes its files.
    /// </summary>
    public CuratedDraft? Draft(string bucket, string batchId, int version, CancellationToken cancellationToken) =>
        options.Value.Enabled
            ? new CuratedDraft(version, (folder, dayFinished, ct) => WriteLocalAsync(bucket, batchId, version, folder, dayFinished, ct), cancellationToken)
            : null;

    /// <summary>
    /// Brings the batch's objects to its version in force: (1) read the version in force from the run store; (2) write that
    /// version's days from its enriched item files (none when retracted), or take <paramref name="draft"/>'s when it is
    /// that version, and upload each day's file over the batch's object of that day; (3) delete the batch's objects on
    /// every other day any of its versions touched (the contribution summaries name them: no listing of <c>curated/</c>);
    /// (4) read the version in force again, and start over if it changed. Requests: a few reads, one PUT a day, one DeleteObjects when days went
    /// away. Null when curated output is off (<see cref="CuratedOptions"/>).
    /// </summary>
    public async Task<CuratedSync?> SyncAsync(string bucket, string batchId, CuratedDraft? draft, CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return null;
        }
        var inForce = await InForceAsync(batchId, cancellationToken).ConfigureAwait(false);
        for (var round = 1; ; round++)
        {
            IReadOnlyList<CuratedDayFile> days = [];
            if (inForce is { } version && draft?.Version == version)
            {
                days = await UploadAsync(bucket, batchId, draft, cancellationToken).ConfigureAwait(false);
            }
            else if (inForce is { } other)
            {
                await using var written = Draft(bucket, batchId, other, cancellationToken)!;
                days = await UploadAsync(bucket, batchId, written, cancellationToken).ConfigureAwait(false);
            }
            draft = null; // the caller's, used once at most: a later round writes afresh
            var gone = (await kpis.DaysTouchedAsync(batchId, cancellationToken).ConfigureAwait(false)).Except(days.Select(d => d.Day)).ToList();
            await DeleteAsync(bucket, batchId, gone, cancellationToken).ConfigureAwait(false);
            var now = await InForceAsync(batchId, cancellationToken).ConfigureAwait(false);
            if (now == inForce)
            {
                return new CuratedSync(inForce, days, gone.Count, round);
            }
            inForce = now;
        }
    }

    /// <inheritdoc cref="SyncAsync(string, string, CuratedDraft?, CancellationToken)"/>
    public Task<CuratedSync?> SyncAsync(string bucket, string batchId, CancellationToken cancellationToken) =>
        SyncAsync(bucket, batchId, null, cancellationToken);

    private async Task<int?> InForceAsync(string batchId, CancellationToken cancellationToken) =>
        (await runs.GetRecentHistoryAsync(batchId, 1, cancellationToken).ConfigureAwait(false))?.InForce?.Version;

    /// <summary>
    /// Writes the version's items as one Parquet file a day in <paramref name="folder"/>, reading its enriched item files
    /// once and writing on up to <see cref="WritersAtOnce"/> cores (<see cref="ParallelCuratedWriter"/>); tells
    /// <paramref name="dayFinished"/> of each day once its file is closed.
    /// </summary>
    private async Task<IReadOnlyList<CuratedDayFile>> WriteLocalAsync(string bucket, string batchId, int version, string folder,
        Action<CuratedDayFile> dayFinished, CancellationToken cancellationToken)
    {
        var itemFiles = (await batches.ListAsync(bucket,
            BatchLayout.VersionFolder(BatchLayout.TransformedPrefix, batchId, version) + TableNames.OrderItems + "/", cancellationToken).ConfigureAwait(false))
            .Order(StringComparer.Ordinal).ToList();
        await using var files = new CuratedDayStreams(day => CuratedDraft.PathOf(folder, day));
        using var writer = new ParallelCuratedWriter(files.Open, WritersAtOnce, dayFinished: day =>
        {
            files.Close(day.Day);
            dayFinished(day);
        });
        foreach (var key in itemFiles)
        {
            await batches.ReadAsync(bucket, key, input => EnrichedFile.ReadRecords(input, writer), cancellationToken).ConfigureAwait(false);
        }
        return writer.Complete();
    }

    /// <summary>Parquet writers at once: one a core, up to four.</summary>
    private static int WritersAtOnce => Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>
    /// Uploads each day's file of <paramref name="draft"/> over the batch's object of that day, naming the version, as soon
    /// as the file is finished: the uploads overlap the writing of the days still open.
    /// </summary>
    private async Task<IReadOnlyList<CuratedDayFile>> UploadAsync(string bucket, string batchId, CuratedDraft draft, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string> { [VersionMetadata] = draft.Version.ToString(CultureInfo.InvariantCulture) };
        await Parallel.ForEachAsync(draft.FinishedDays(cancellationToken), RequestConcurrency.Options(cancellationToken), async (day, ct) =>
            await batches.PutFileAsync(bucket, KeyOf(batchId, day.Day), draft.PathOf(day.Day), progress: null, metadata, ct).ConfigureAwait(false))
            .ConfigureAwait(false);
        return await draft.Days.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the batch's objects of <paramref name="days"/> (an error on any throws: the sync is tried again).</summary>
    private async Task DeleteAsync(string bucket, string batchId, IReadOnlyList<DateOnly> days, CancellationToken cancellationToken)
    {
        foreach (var chunk in days.Chunk(KeysPerDelete))
        {
            await s3.DeleteObjectsAsync(new DeleteObjectsRequest
            {
                BucketName = bucket,
                Objects = chunk.Select(day => new KeyVersion { Key = KeyOf(batchId, day) }).ToList(),
                Quiet = true,
            }, cancellationToken).ConfigureAwait(false);
        }
    }
}
