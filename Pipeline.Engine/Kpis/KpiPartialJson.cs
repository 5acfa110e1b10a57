using System.Text.Json;

namespace Pipeline.Engine.Kpis;

/// <summary>The storage form of <see cref="KpiPartial"/>: JSON with exact decimals and ISO dates.</summary>
public static class KpiPartialJson
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string Serialize(KpiPartial partial) => JsonSerializer.Serialize(partial, Options);

    public static void Write(Stream destination, KpiPartial partial) => JsonSerializer.Serialize(destination, partial, Options);

    public static KpiPartial Deserialize(string json) =>
        JsonSerializer.Deserialize<KpiPartial>(json, Options) ?? throw new JsonException("The KPI partial is null.");

    public static KpiPartial Read(Stream source) =>
        JsonSerializer.Deserialize<KpiPartial>(source, Options) ?? throw new JsonException("The KPI partial is null.");
}
