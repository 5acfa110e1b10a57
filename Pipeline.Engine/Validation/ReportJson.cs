using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Engine.Validation;

/// <summary>The JSON form of <see cref="ValidationReport"/> (snake_case, like the KPI columns).</summary>
public static class ReportJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static void Write(Stream destination, ValidationReport report) =>
        JsonSerializer.Serialize(destination, report, Options);

    public static string Serialize(ValidationReport report) => JsonSerializer.Serialize(report, Options);

    public static ValidationReport Deserialize(string json) =>
        JsonSerializer.Deserialize<ValidationReport>(json, Options) ?? throw new JsonException("The report is null.");
}
