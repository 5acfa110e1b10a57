using System.Globalization;
using Amazon.DynamoDBv2.Model;

namespace Pipeline.Storage.Runs;

/// <summary>How a <see cref="PipelineRun"/> is laid out as a DynamoDB item.</summary>
internal static class RunItems
{
    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTimestamp(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public static Dictionary<string, AttributeValue> ToItem(PipelineRun run)
    {
        var item = new Dictionary<string, AttributeValue>
        {
            ["batch_id"] = new(run.BatchId),
            ["manifest_key"] = new(run.ManifestKey),
            ["manifest_etag"] = new(run.ManifestETag),
            ["source"] = new(run.Source),
            ["status"] = new(run.Status.ToString()),
            ["submitted_at"] = new(Timestamp(run.SubmittedAt)),
            ["updated_at"] = new(Timestamp(run.UpdatedAt)),
            ["stages"] = new AttributeValue { M = run.Stages.ToDictionary(s => s.Key, s => ToAttribute(s.Value)) },
        };
        if (run.CurrentStage is not null) item["current_stage"] = new(run.CurrentStage);
        if (run.FinishedAt is { } finished) item["finished_at"] = new(Timestamp(finished));
        if (run.Summary is not null) item["summary"] = new(run.Summary);
        return item;
    }

    public static AttributeValue ToAttribute(StageRecord stage)
    {
        var map = new Dictionary<string, AttributeValue>
        {
            ["status"] = new(stage.Status),
            ["started_at"] = new(Timestamp(stage.StartedAt)),
            ["counts"] = new AttributeValue { M = stage.Counts.ToDictionary(c => c.Key, c => new AttributeValue { N = c.Value.ToString(CultureInfo.InvariantCulture) }) },
        };
        if (stage.FinishedAt is { } finished) map["finished_at"] = new(Timestamp(finished));
        if (stage.Error is not null) map["error"] = new(stage.Error);
        return new AttributeValue { M = map };
    }

    public static PipelineRun FromItem(Dictionary<string, AttributeValue> item) => new(
        item["batch_id"].S,
        item["manifest_key"].S,
        item["manifest_etag"].S,
        item["source"].S,
        Enum.Parse<RunStatus>(item["status"].S),
        Text(item, "current_stage"),
        ParseTimestamp(item["submitted_at"].S),
        ParseTimestamp(item["updated_at"].S),
        Text(item, "finished_at") is { } finished ? ParseTimestamp(finished) : null,
        (item.TryGetValue("stages", out var stages) ? stages.M : null)?.ToDictionary(s => s.Key, s => FromAttribute(s.Value)) ?? [],
        Text(item, "summary"));

    private static StageRecord FromAttribute(AttributeValue value)
    {
        var map = value.M;
        return new StageRecord(
            map["status"].S,
            ParseTimestamp(map["started_at"].S),
            Text(map, "finished_at") is { } finished ? ParseTimestamp(finished) : null,
            (map.TryGetValue("counts", out var counts) ? counts.M : null)?.ToDictionary(c => c.Key, c => long.Parse(c.Value.N, CultureInfo.InvariantCulture)) ?? [],
            Text(map, "error"));
    }

    private static string? Text(Dictionary<string, AttributeValue> item, string name) => item.TryGetValue(name, out var value) ? value.S : null;
}
