using Amazon.DynamoDBv2;
using Amazon.S3;
using Amazon.S3.Model;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Runs;
using Pipeline.Topology;
using static Pipeline.Storage.Batches.S3Objects;

namespace Pipeline.Storage.Kpis;

/// <summary>
/// One batch's version in force as the archive holds it: its run record's files, found again under
/// <c>processed/&lt;batch&gt;/v&lt;n&gt;/</c>, and the days its contribution summary names (null when it has none).
/// </summary>
public sealed record ArchivedVersion(string BatchId, int Version, IReadOnlyList<BatchObject> Files, IReadOnlyList<DateOnly>? Days)
{
    public long Bytes => Files.Sum(f => f.Size);
}

/// <summary>
/// A version in force whose archived files cannot prove its KPIs: a file of its run record missing from its archive or of
/// another size, or a products file outside the batch's folder (the shared master) that has changed since the version used it.
/// </summary>
public sealed record UnverifiableVersion(string BatchId, int Version, string Reason);

/// <summary>
/// The archive of the versions in force, read back through the engine: what <c>pipeline reconcile</c> compares the KPI
/// tables with and <c>pipeline rebuild</c> checks its work against. The batches are the names under <c>processed/</c>;
/// each one's version in force is its run head's (an accepted upload; a batch retracted or not yet folded has none);
/// its files are its run record's (<see cref="BatchContent"/>, with their ETags), read from the archive; the products
/// file, when it lies outside the batch's folder and so is never archived, is read only while it is still the one the
/// version used (its ETag). Batches are read one at a time, each with the engine's own bound on memory
/// (docs/data-quality.md, "Reconciliation").
/// </summary>
public sealed class KpiArchive(IAmazonS3 s3, IAmazonDynamoDB dynamoDb, PipelineTopology topology, BatchLimits? limits = null)
{
    private readonly S3BatchStore _store = new(s3, limits);
    private readonly PipelineRunStore _runs = new(dynamoDb, topology, TimeProvider.System);

    private string Bucket => topology.Bucket.Name;

    /// <summary>
    /// The versions in force that have data in [from, to] (every one when no range is given), by batch name, and those that
    /// cannot be verified. One listing of <c>processed/</c>, then per batch its run history and its version's summary.
    /// </summary>
    public async Task<(IReadOnlyList<ArchivedVersion> Versions, IReadOnlyList<UnverifiableVersion> Unverifiable)> InForceAsync(
        DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var (objects, _) = await s3.ListObjectsAsync(Bucket, BatchLayout.ProcessedPrefix, int.MaxValue, cancellationToken).ConfigureAwait(false);
        var byBatch = objects.GroupBy(o => o.Key.Split('/')[1], StringComparer.Ordinal).Where(g => BatchLayout.IsBatchName(g.Key))
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        // The batches' look-ups (their run history, their version's summary) a few at once: a year has hundreds of batches.
        var found = new (ArchivedVersion? Version, UnverifiableVersion? Unverifiable)[byBatch.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, byBatch.Count), RequestConcurrency.Options(cancellationToken), async (i, ct) =>
            found[i] = await InForceAsync(byBatch[i].Key, byBatch[i], from, to, ct).ConfigureAwait(false)).ConfigureAwait(false);
        var versions = found.Select(f => f.Version).OfType<ArchivedVersion>().ToList();
        var unverifiable = found.Select(f => f.Unverifiable).OfType<UnverifiableVersion>().ToList();
        return (versions, unverifiable);
    }

    /// <summary>One batch's version in force, if it has one with data in [from, to], or why it cannot be verified.</summary>
    private async Task<(ArchivedVersion? Version, UnverifiableVersion? Unverifiable)> InForceAsync(string batchId, IEnumerable<S3Object> objects,
        DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var history = await _runs.GetHistoryAsync(batchId, cancellationToken).ConfigureAwait(false);
        if (history?.InForce is not { Content: { } json } run)
        {
            return (null, null); // retracted, or its in-force version is a retraction: nothing of it counts
        }
        var days = await DaysOfAsync(run.BatchId, run.Version, cancellationToken).ConfigureAwait(false);
        if (days is not null && !days.Any(d => d >= from && d <= to))
        {
            return (null, null);
        }
        var folder = BatchLayout.VersionFolder(BatchLayout.ProcessedPrefix, run.BatchId, run.Version);
        var archived = objects.Where(o => o.Key.StartsWith(folder, StringComparison.Ordinal)).ToDictionary(o => o.Key, StringComparer.Ordinal);
        var (files, problem) = await ArchivedFilesAsync(run, BatchContent.FromJson(json), archived, cancellationToken).ConfigureAwait(false);
        return problem is null
            ? (new ArchivedVersion(run.BatchId, run.Version, files, days), null)
            : (null, new UnverifiableVersion(run.BatchId, run.Version, problem));
    }

    /// <summary>
    /// The version's KPI partial as the engine computes it from the archived files, restricted to [from, to]; null with the
    /// reason when the files no longer pass validation (an engine changed since, or a file changed under the read).
    /// </summary>
    public (KpiPartial? Kpis, string? Problem) Recompute(ArchivedVersion version, DateOnly from, DateOnly to, ProgressCounter? progress,
        CancellationToken cancellationToken)
    {
        BatchResult result;
        try
        {
            result = new BatchProcessor(new EngineOptions { Limits = _store.Limits })
                .Process(_store.ToEngineInput(Bucket, version.Files), progress, cancellationToken: cancellationToken);
        }
        catch (BatchChangedException e)
        {
            return (null, e.Message);
        }
        if (result.Kpis is not { } kpis)
        {
            var first = result.Report.Errors.FirstOrDefault();
            var firstError = first is null ? "" : $"; first: {first.Message}";
            return (null, $"its archived files no longer pass validation ({result.Report.ErrorCount} errors{firstError})");
        }
        return (new KpiPartial(
            kpis.CategoryDays.Where(c => c.OrderDate >= from && c.OrderDate <= to).ToList(),
            kpis.Days.Where(d => d.OrderDate >= from && d.OrderDate <= to).ToList()), null);
    }

    /// <summary>The days of a version's contribution summary; null when it has none (then every day is read).</summary>
    public async Task<IReadOnlyList<DateOnly>?> DaysOfAsync(string batchId, int version, CancellationToken cancellationToken)
    {
        var summary = await dynamoDb.GetItemOrNullAsync(topology.KpiContributionsTable.Name,
            KpiItems.ContributionKey(batchId, KpiItems.SummaryPart(version)), cancellationToken).ConfigureAwait(false);
        return summary is null ? null : KpiItems.DaysOfSummary(summary)?.Order().ToList();
    }

    /// <summary>
    /// Each file of the run record where the archive has it now (its archived key, size and ETag: a copy's ETag need not be
    /// the original's), the products file outside the batch's folder where it was, while its ETag is the one recorded.
    /// </summary>
    private async Task<(IReadOnlyList<BatchObject> Files, string? Problem)> ArchivedFilesAsync(PipelineRun run, BatchContent content,
        Dictionary<string, S3Object> archived, CancellationToken cancellationToken)
    {
        var files = new List<BatchObject>();
        foreach (var file in content.Files)
        {
            if (!BatchLayout.IsInBatchFolder(run.BatchId, file.Key))
            {
                var now = await s3.MetadataAsync(Bucket, file.Key, cancellationToken).ConfigureAwait(false);
                if (now is null || BareETag(now.ETag) != file.ETag)
                {
                    return ([], $"its {file.Name} is {file.Key}, which has {(now is null ? "been deleted" : "changed")} since version {run.Version} used it " +
                        $"(ETag {file.ETag}); keep a batch's products in its own folder or under {BatchLayout.SharedPrefix} under a name never reused");
                }
                files.Add(file);
                continue;
            }
            var key = BatchLayout.ArchiveKey(run.BatchId, run.Version, BatchLayout.ProcessedPrefix, file.Key);
            if (!archived.TryGetValue(key, out var copy) || copy.Size != file.Size)
            {
                return ([], copy is null ? $"{key} is missing from the archive" : $"{key} has {copy.Size} bytes, the version had {file.Size}");
            }
            files.Add(file with { Key = key, ETag = BareETag(copy.ETag) });
        }
        return (files, null);
    }
}
