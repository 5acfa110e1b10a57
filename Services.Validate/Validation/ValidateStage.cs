using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Validation;
using Pipeline.Storage.Keys;
using Services.Validate.Uploads;
using Services.Validate.Verdicts;

namespace Services.Validate.Validation;

/// <summary>
/// The Validate stage's work on a version: streams its files from S3 through the engine's rules, claims its order ids,
/// and publishes <see cref="BatchValidated"/>, or rejects it (<see cref="RejectionPublisher"/>: anything wrong with the
/// batch is a rejection with a clear reason, its files kept in <c>errors/&lt;batch&gt;/v&lt;n&gt;/</c>).
/// </summary>
public sealed partial class ValidateStage(
    S3BatchStore batches, BatchProcessor processor, PipelineRunStore runs, OrderKeyIndex keys, RejectionPublisher rejections, IEventBus bus,
    PipelineTopology topology, TimeProvider clock, ILogger<ValidateStage> logger)
{
    public StageWork Work(Identified.Upload upload) => new(
        (stage, ct) => ValidateAsync(stage, upload, ct),
        (run, ct) => AnnounceAgainAsync(run, upload.Content, ct));

    private async Task ValidateAsync(OpenStage stage, Identified.Upload upload, CancellationToken cancellationToken)
    {
        if (upload.Problem is { } problem)
        {
            await rejections.RejectAsync(stage, upload.Content, Verdict.Unreadable(upload.Content.ManifestKey, problem, upload.Rule), cancellationToken)
                .ConfigureAwait(false);
            return;
        }

        var input = batches.ToEngineInput(topology.Bucket.Name, upload.Content.Files);
        BatchResult result;
        try
        {
            // The engine is synchronous and CPU-bound: keep it off the receive loop's threads.
            result = await Task.Run(() => processor.Process(input, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
            if ((await batches.ManifestAsync(topology.Bucket.Name, upload.Content.ManifestKey, cancellationToken).ConfigureAwait(false))?.ETag
                != upload.Content.ManifestETag)
            {
                throw new BatchChangedException($"the manifest {upload.Content.ManifestKey} was replaced while the batch was being validated");
            }
        }
        catch (BatchChangedException e)
        {
            await stage.SupersedeAsync(e.Message, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (!result.Accepted)
        {
            await rejections.RejectAsync(stage, upload.Content, Verdict.Of(result.Report), cancellationToken).ConfigureAwait(false);
            return;
        }

        var claiming = clock.GetUtcNow();
        var claim = await keys.ClaimAsync(new KeyOwner(stage.BatchId, stage.Version), result.Keys!, MayCountAsync, cancellationToken).ConfigureAwait(false);
        if (!claim.Claimed)
        {
            var located = await Task.Run(() => LocateConflicts(input, claim), cancellationToken).ConfigureAwait(false);
            await rejections.RejectAsync(stage, upload.Content, Verdict.KeysCounted(result.Report, claim, located), cancellationToken).ConfigureAwait(false);
            return;
        }

        var rows = Verdict.RowCounts(result.Report);
        // What the order key check costs, for the run record (and the end-to-end benchmark).
        var counts = new Dictionary<string, long>(rows)
        {
            ["key_pages"] = claim.Pages.Count,
            ["key_check_ms"] = (long)(clock.GetUtcNow() - claiming).TotalMilliseconds,
        };
        await rejections.WriteReportAsync(stage.Run, result.Report, cancellationToken).ConfigureAwait(false);
        if (await stage.PassAsync(counts, cancellationToken).ConfigureAwait(false) is not { } passed)
        {
            return; // superseded or failed meanwhile: no verdict from this delivery
        }
        LogValidated(stage.BatchId, stage.Version, result.Report.RowsRead, stage.Elapsed);
        stage.Finished("succeeded", rows);
        await PublishValidatedAsync(passed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The same message again after the verdict was recorded (its earlier delivery died before announcing it): a rejection
    /// is announced again (its files moved to errors/ first), a version validated and still under way is announced again.
    /// </summary>
    private Task AnnounceAgainAsync(PipelineRun? run, BatchContent content, CancellationToken cancellationToken) => run switch
    {
        { Status: RunStatus.Rejected } => rejections.AnnounceAsync(run, content, cancellationToken),
        { Status: RunStatus.Running } when run.HasPassed(Stages.Validate) => PublishValidatedAsync(run, cancellationToken),
        _ => Task.CompletedTask, // the version went further (succeeded, superseded): nothing left to do
    };

    private Task PublishValidatedAsync(PipelineRun run, CancellationToken cancellationToken)
    {
        var counts = run.Stages[Stages.Validate].Counts;
        return bus.PublishAsync(new BatchValidated(run.BatchId, topology.Bucket.Name, run.ManifestKey, run.Version, run.ContentId,
            BatchLayout.ReportKey(run.BatchId, run.Version, accepted: true),
            counts.GetValueOrDefault(TableNames.Orders), counts.GetValueOrDefault(TableNames.OrderItems), counts.GetValueOrDefault(TableNames.Products),
            clock.GetUtcNow()), cancellationToken);
    }

    /// <summary>Where the conflicting ids are in the batch's files (a second look at the orders and items parts, only for a rejection).</summary>
    private IReadOnlyList<ValidationError> LocateConflicts(BatchInput input, KeyClaim claim) =>
        claim.FirstConflicts.GroupBy(c => c.Kind).SelectMany(group => processor.LocateKeys(input,
            group.Key == KeyKind.Order ? TableKind.Orders : TableKind.OrderItems, ValidationRule.SeenInBatch,
            group.ToDictionary(c => c.Id, c => Verdict.CountedIn(c)))).ToList();

    /// <summary>A key holder still counts while its version may be (or is) in the KPIs.</summary>
    private async Task<bool> MayCountAsync(KeyOwner holder, CancellationToken cancellationToken) =>
        await runs.GetAsync(holder.BatchId, holder.Version, cancellationToken).ConfigureAwait(false) is { MayCount: true };

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: valid, {Rows} rows in {Elapsed}")]
    private partial void LogValidated(string batchId, int version, long rows, TimeSpan elapsed);
}
