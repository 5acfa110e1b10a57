using System.Globalization;
using Amazon.DynamoDBv2.Model;

namespace Pipeline.Storage.Runs;

/// <summary>How runs are laid out as DynamoDB items: a head item per batch name (version 0) and one item per version.</summary>
internal static class RunItems
{
    public const string BatchId = "batch_id";
    public const string Version = "version";
    public const string Status = "status";
    public const string UpdatedAt = "updated_at";

    // The head item (version 0).
    public const string LatestVersion = "latest_version";
    public const string LatestContent = "latest_content";
    public const string AppliedVersion = "applied_version";
    public const string Superseded = "superseded";

    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTimestamp(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public static AttributeValue Number(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    public static Dictionary<string, AttributeValue> Key(string batchId, int version) => new()
    {
        [BatchId] = new AttributeValue(batchId),
        [Version] = Number(version),
    };

    public static bool IsHead(Dictionary<string, AttributeValue> item) => Int(item, Version) == 0;

    public static int Int(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.N is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : 0;

    public static Dictionary<string, AttributeValue> ToItem(PipelineRun run)
    {
        var item = Key(run.BatchId, run.Version);
        item["kind"] = new(run.Kind.ToString());
        item["manifest_key"] = new(run.ManifestKey);
        item["content_id"] = new(run.ContentId);
        item["source"] = new(run.Source);
        item[Status] = new(run.Status.ToString());
        item["submitted_at"] = new(Timestamp(run.SubmittedAt));
        item[UpdatedAt] = new(Timestamp(run.UpdatedAt));
        item["stages"] = new AttributeValue { M = run.Stages.ToDictionary(s => s.Key, s => ToAttribute(s.Value)) };
        item["attempt"] = Number(run.Attempt);
        Optional(item, "manifest_etag", run.ManifestETag);
        Optional(item, "content", run.Content);
        Optional(item, "current_stage", run.CurrentStage);
        Optional(item, "finished_at", run.FinishedAt is { } finished ? Timestamp(finished) : null);
        Optional(item, "summary", run.Summary);
        Optional(item, "owner_message", run.OwnerMessage);
        if (run.Rejection is not null) item["rejection"] = ToAttribute(run.Rejection);
        if (run.ChangedBy is { } changedBy) item["changed_by"] = Number(changedBy);
        if (run.RetractsVersion is { } retracts) item["retracts"] = Number(retracts);
        return item;
    }

    public static AttributeValue ToAttribute(StageRecord stage)
    {
        var map = new Dictionary<string, AttributeValue>
        {
            ["status"] = new(stage.Status),
            ["started_at"] = new(Timestamp(stage.StartedAt)),
            ["counts"] = new AttributeValue { M = stage.Counts.ToDictionary(c => c.Key, c => Number(c.Value)) },
        };
        Optional(map, "finished_at", stage.FinishedAt is { } finished ? Timestamp(finished) : null);
        Optional(map, "error", stage.Error);
        return new AttributeValue { M = map };
    }

    public static AttributeValue ToAttribute(RejectionRecord rejection)
    {
        var map = new Dictionary<string, AttributeValue>
        {
            ["reason"] = new(rejection.Reason),
            ["error_count"] = Number(rejection.ErrorCount),
            ["first_errors"] = new AttributeValue { L = rejection.FirstErrors.Select(e => new AttributeValue(e)).ToList() },
        };
        Optional(map, "report_key", rejection.ReportKey);
        return new AttributeValue { M = map };
    }

    public static AttributeValue ToAttribute(SupersededAnnouncement announcement) => new()
    {
        M = new()
        {
            ["manifest_etag"] = new(announcement.ManifestETag),
            ["source"] = new(announcement.Source),
            ["submitted_at"] = new(Timestamp(announcement.SubmittedAt)),
            ["seen_at"] = new(Timestamp(announcement.SeenAt)),
        },
    };

    public static PipelineRun FromItem(Dictionary<string, AttributeValue> item) => new(
        item[BatchId].S,
        Int(item, Version),
        Enum.Parse<RunKind>(item["kind"].S),
        item["manifest_key"].S,
        Text(item, "manifest_etag"),
        item["content_id"].S,
        Text(item, "content"),
        item["source"].S,
        Enum.Parse<RunStatus>(item[Status].S),
        Text(item, "current_stage"),
        ParseTimestamp(item["submitted_at"].S),
        ParseTimestamp(item[UpdatedAt].S),
        Text(item, "finished_at") is { } finished ? ParseTimestamp(finished) : null,
        (item.TryGetValue("stages", out var stages) ? stages.M : null)?.ToDictionary(s => s.Key, s => StageFrom(s.Value)) ?? [],
        Text(item, "summary"),
        Int(item, "attempt"),
        Text(item, "owner_message"),
        item.TryGetValue("rejection", out var rejection) ? RejectionFrom(rejection) : null,
        item.ContainsKey("changed_by") ? Int(item, "changed_by") : null,
        item.ContainsKey("retracts") ? Int(item, "retracts") : null);

    public static IReadOnlyList<SupersededAnnouncement> AnnouncementsFrom(Dictionary<string, AttributeValue> head) =>
        (head.TryGetValue(Superseded, out var map) ? map.M : null)?.Values
            .Select(a => new SupersededAnnouncement(a.M["manifest_etag"].S, a.M["source"].S, ParseTimestamp(a.M["submitted_at"].S), ParseTimestamp(a.M["seen_at"].S)))
            .OrderBy(a => a.SeenAt)
            .ToList() ?? [];

    private static StageRecord StageFrom(AttributeValue value)
    {
        var map = value.M;
        return new StageRecord(
            map["status"].S,
            ParseTimestamp(map["started_at"].S),
            Text(map, "finished_at") is { } finished ? ParseTimestamp(finished) : null,
            (map.TryGetValue("counts", out var counts) ? counts.M : null)?.ToDictionary(c => c.Key, c => long.Parse(c.Value.N, CultureInfo.InvariantCulture)) ?? [],
            Text(map, "error"));
    }

    private static RejectionRecord RejectionFrom(AttributeValue value) => new(
        value.M["reason"].S,
        value.M.TryGetValue("first_errors", out var errors) ? errors.L.Select(e => e.S).ToList() : [],
        long.Parse(value.M["error_count"].N, CultureInfo.InvariantCulture),
        Text(value.M, "report_key"));

    private static void Optional(Dictionary<string, AttributeValue> item, string name, string? value)
    {
        if (value is not null)
        {
            item[name] = new AttributeValue(value);
        }
    }

    private static string? Text(Dictionary<string, AttributeValue> item, string name) => item.TryGetValue(name, out var value) ? value.S : null;
}
