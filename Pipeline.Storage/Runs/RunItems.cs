using System.Globalization;
using Amazon.DynamoDBv2.Model;

namespace Pipeline.Storage.Runs;

/// <summary>
/// How runs are laid out as DynamoDB items: a head item per batch name (version 0) and one item per version. Every
/// attribute name is here once; update and condition expressions are written with these names.
/// </summary>
internal static class RunItems
{
    public const int HeadVersion = 0;

    public const string BatchId = "batch_id";
    public const string Version = "version";

    // The head item (version 0).
    public const string LatestVersion = "latest_version";
    public const string LatestContent = "latest_content";
    public const string AppliedVersion = "applied_version";
    public const string PreviousApplied = "previous_applied";
    public const string Superseded = "superseded";

    // A version's item.
    public const string Kind = "kind";
    public const string ManifestKey = "manifest_key";
    public const string ManifestETag = "manifest_etag";
    public const string ContentId = "content_id";
    public const string Content = "content";
    public const string Source = "source";
    public const string Status = "status";
    public const string CurrentStage = "current_stage";
    public const string SubmittedAt = "submitted_at";
    public const string UpdatedAt = "updated_at";
    public const string FinishedAt = "finished_at";
    public const string StageRecords = "stages";
    public const string Summary = "summary";
    public const string Attempt = "attempt";
    public const string OwnerMessage = "owner_message";
    public const string Rejection = "rejection";
    public const string ChangedBy = "changed_by";
    public const string Retracts = "retracts";

    // A version's index attributes (PipelineTopology's OpenRunsIndex and RunsBySubmissionIndex); a head has neither.

    /// <summary>
    /// The status while the version is open — Running, or Failed with no alert recorded since it failed (no notify stage
    /// that started at or after <see cref="FinishedAt"/>) — and absent otherwise: set and removed by the very conditional
    /// writes that change the status or record an alert, so it never disagrees with them.
    /// </summary>
    public const string OpenStatus = "open_status";

    /// <summary>The by-submission index's one partition (<see cref="ListedIn"/>): the overview reads it backwards, newest first.</summary>
    public const string Listed = "listed";

    /// <summary>The submission time, batch and version (<see cref="ListedAtOf"/>): unique, and ordered as the overview lists.</summary>
    public const string ListedAt = "listed_at";

    public const string ListedIn = "versions";

    /// <summary>The fields of one stage's record (an entry of <see cref="StageRecords"/>).</summary>
    public static class StageFields
    {
        public const string Status = "status";
        public const string StartedAt = "started_at";
        public const string FinishedAt = "finished_at";
        public const string Counts = "counts";
        public const string Error = "error";
    }

    /// <summary>The fields of a <see cref="Rejection"/>.</summary>
    public static class RejectionFields
    {
        public const string Reason = "reason";
        public const string ErrorCount = "error_count";
        public const string FirstErrors = "first_errors";
        public const string ReportKey = "report_key";
    }

    /// <summary>The fields of a superseded announcement (an entry of the head's <see cref="Superseded"/>, keyed by manifest ETag).</summary>
    public static class AnnouncementFields
    {
        public const string ManifestETag = "manifest_etag";
        public const string Source = "source";
        public const string SubmittedAt = "submitted_at";
        public const string SeenAt = "seen_at";
    }

    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTimestamp(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public static AttributeValue Number(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    public static Dictionary<string, AttributeValue> Key(string batchId, int version) => new()
    {
        [BatchId] = new AttributeValue(batchId),
        [Version] = Number(version),
    };

    public static bool IsHead(Dictionary<string, AttributeValue> item) => Int(item, Version) == HeadVersion;

    public static string ListedAtOf(PipelineRun run) => $"{Timestamp(run.SubmittedAt)}#{run.BatchId}#{run.Version:D10}";

    public static int Int(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.N is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : 0;

    public static Dictionary<string, AttributeValue> ToItem(PipelineRun run)
    {
        var item = Key(run.BatchId, run.Version);
        item[Kind] = new(run.Kind.ToString());
        item[ManifestKey] = new(run.ManifestKey);
        item[ContentId] = new(run.ContentId);
        item[Source] = new(run.Source);
        item[Status] = new(run.Status.ToString());
        item[SubmittedAt] = new(Timestamp(run.SubmittedAt));
        item[UpdatedAt] = new(Timestamp(run.UpdatedAt));
        item[StageRecords] = new AttributeValue { M = run.Stages.ToDictionary(s => s.Key, s => ToAttribute(s.Value)) };
        item[Attempt] = Number(run.Attempt);
        item[Listed] = new(ListedIn);
        item[ListedAt] = new(ListedAtOf(run));
        Optional(item, OpenStatus, run.IsOpen ? run.Status.ToString() : null); // a new record: no alert recorded yet
        Optional(item, ManifestETag, run.ManifestETag);
        Optional(item, Content, run.Content);
        Optional(item, CurrentStage, run.CurrentStage);
        Optional(item, FinishedAt, run.FinishedAt is { } finished ? Timestamp(finished) : null);
        Optional(item, Summary, run.Summary);
        Optional(item, OwnerMessage, run.OwnerMessage);
        if (run.Rejection is not null) item[Rejection] = ToAttribute(run.Rejection);
        if (run.ChangedBy is { } changedBy) item[ChangedBy] = Number(changedBy);
        if (run.RetractsVersion is { } retracts) item[Retracts] = Number(retracts);
        return item;
    }

    public static AttributeValue ToAttribute(StageRecord stage)
    {
        var map = new Dictionary<string, AttributeValue>
        {
            [StageFields.Status] = new(stage.Status),
            [StageFields.StartedAt] = new(Timestamp(stage.StartedAt)),
            [StageFields.Counts] = new AttributeValue { M = stage.Counts.ToDictionary(c => c.Key, c => Number(c.Value)) },
        };
        Optional(map, StageFields.FinishedAt, stage.FinishedAt is { } finished ? Timestamp(finished) : null);
        Optional(map, StageFields.Error, stage.Error);
        return new AttributeValue { M = map };
    }

    public static AttributeValue ToAttribute(RejectionRecord rejection)
    {
        var map = new Dictionary<string, AttributeValue>
        {
            [RejectionFields.Reason] = new(rejection.Reason),
            [RejectionFields.ErrorCount] = Number(rejection.ErrorCount),
            [RejectionFields.FirstErrors] = new AttributeValue { L = rejection.FirstErrors.Select(e => new AttributeValue(e)).ToList() },
        };
        Optional(map, RejectionFields.ReportKey, rejection.ReportKey);
        return new AttributeValue { M = map };
    }

    public static AttributeValue ToAttribute(SupersededAnnouncement announcement) => new()
    {
        M = new()
        {
            [AnnouncementFields.ManifestETag] = new(announcement.ManifestETag),
            [AnnouncementFields.Source] = new(announcement.Source),
            [AnnouncementFields.SubmittedAt] = new(Timestamp(announcement.SubmittedAt)),
            [AnnouncementFields.SeenAt] = new(Timestamp(announcement.SeenAt)),
        },
    };

    public static PipelineRun FromItem(Dictionary<string, AttributeValue> item) => new(
        item[BatchId].S,
        Int(item, Version),
        Enum.Parse<RunKind>(item[Kind].S),
        item[ManifestKey].S,
        Text(item, ManifestETag),
        item[ContentId].S,
        Text(item, Content),
        item[Source].S,
        Enum.Parse<RunStatus>(item[Status].S),
        Text(item, CurrentStage),
        ParseTimestamp(item[SubmittedAt].S),
        ParseTimestamp(item[UpdatedAt].S),
        Text(item, FinishedAt) is { } finished ? ParseTimestamp(finished) : null,
        (item.TryGetValue(StageRecords, out var stages) ? stages.M : null)?.ToDictionary(s => s.Key, s => StageFrom(s.Value)) ?? [],
        Text(item, Summary),
        Int(item, Attempt),
        Text(item, OwnerMessage),
        item.TryGetValue(Rejection, out var rejection) ? RejectionFrom(rejection) : null,
        item.ContainsKey(ChangedBy) ? Int(item, ChangedBy) : null,
        item.ContainsKey(Retracts) ? Int(item, Retracts) : null);

    public static IReadOnlyList<SupersededAnnouncement> AnnouncementsFrom(Dictionary<string, AttributeValue> head) =>
        (head.TryGetValue(Superseded, out var map) ? map.M : null)?.Values
            .Select(a => new SupersededAnnouncement(a.M[AnnouncementFields.ManifestETag].S, a.M[AnnouncementFields.Source].S,
                ParseTimestamp(a.M[AnnouncementFields.SubmittedAt].S), ParseTimestamp(a.M[AnnouncementFields.SeenAt].S)))
            .OrderBy(a => a.SeenAt)
            .ToList() ?? [];

    private static StageRecord StageFrom(AttributeValue value)
    {
        var map = value.M;
        return new StageRecord(
            map[StageFields.Status].S,
            ParseTimestamp(map[StageFields.StartedAt].S),
            Text(map, StageFields.FinishedAt) is { } finished ? ParseTimestamp(finished) : null,
            (map.TryGetValue(StageFields.Counts, out var counts) ? counts.M : null)
                ?.ToDictionary(c => c.Key, c => long.Parse(c.Value.N, CultureInfo.InvariantCulture)) ?? [],
            Text(map, StageFields.Error));
    }

    private static RejectionRecord RejectionFrom(AttributeValue value) => new(
        value.M[RejectionFields.Reason].S,
        value.M.TryGetValue(RejectionFields.FirstErrors, out var errors) ? errors.L.Select(e => e.S).ToList() : [],
        long.Parse(value.M[RejectionFields.ErrorCount].N, CultureInfo.InvariantCulture),
        Text(value.M, RejectionFields.ReportKey));

    private static void Optional(Dictionary<string, AttributeValue> item, string name, string? value)
    {
        if (value is not null)
        {
            item[name] = new AttributeValue(value);
        }
    }

    private static string? Text(Dictionary<string, AttributeValue> item, string name) => item.TryGetValue(name, out var value) ? value.S : null;
}
