using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Contracts.Alerts;

public enum AlertStatus
{
    Succeeded,
    Rejected,
    Failed,
    Retracted,

    /// <summary>A figure of a day far from its baseline (docs/data-quality.md, "Anomalies"); the version is the one whose data made it so.</summary>
    Anomaly,

    /// <summary>A day whose data did not come by its deadline (docs/data-quality.md, "Freshness").</summary>
    Late,

    /// <summary>A late day whose data has come since.</summary>
    Recovered,

    /// <summary>A reconciliation found the KPI tables equal to the archive's recomputation: logged by the Notifier, not sent.</summary>
    Reconciled,

    /// <summary>A reconciliation found differences (or versions it could not verify): sent to people.</summary>
    ReconciliationFailed,
}

/// <summary>
/// A notification a person reads (email subscribers in AWS): what happened to which batch, and what to do.
/// Published as JSON on the alerts topic, with <see cref="Subject"/> also as the SNS subject.
/// </summary>
/// <param name="Version">The version of the batch the alert is about, when there is one.</param>
/// <param name="AlertId">The same for every publication of the same alert, so that a repeat (a publish retried after a lost answer) can be recognised.</param>
public sealed record Alert(
    [property: JsonConverter(typeof(JsonStringEnumConverter<AlertStatus>))] AlertStatus Status,
    string BatchId,
    int? Version,
    string ManifestKey,
    string Subject,
    string Summary,
    string AlertId)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static Alert FromJson(string json) => JsonSerializer.Deserialize<Alert>(json, Json)
        ?? throw new JsonException("an alert cannot be null");
}
