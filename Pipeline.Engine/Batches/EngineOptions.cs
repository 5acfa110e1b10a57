namespace Pipeline.Engine.Batches;

public sealed record EngineOptions
{
    /// <summary>A row (with any quoted line breaks) longer than this many bytes is an error.</summary>
    public int MaxLineBytes { get; init; } = 64 * 1024;

    /// <summary>How many errors the report lists; all of them are counted.</summary>
    public int MaxReportedErrors { get; init; } = 100;

    /// <summary>Parts read at the same time.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}
