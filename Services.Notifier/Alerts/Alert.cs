using System.Text.Json;
using System.Text.Json.Serialization;

namespace Services.Notifier.Alerts;

public enum AlertStatus { Succeeded, Rejected, Failed }

/// <summary>
/// A notification a person reads (email subscribers in AWS): what happened to which batch, and what to do.
/// Published as JSON on the alerts topic, with <see cref="Subject"/> also as the SNS subject.
/// </summary>
public sealed record Alert(
    [property: JsonConverter(typeof(JsonStringEnumConverter<AlertStatus>))] AlertStatus Status,
    string BatchId,
    string ManifestKey,
    string Subject,
    string Summary)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static Alert FromJson(string json) => JsonSerializer.Deserialize<Alert>(json, Json)
        ?? throw new JsonException("an alert cannot be null");
}
