namespace Pipeline.Engine.Batches;

public sealed record EngineOptions
{
    /// <summary>What a batch may be (files, sizes, rows, fields, categories, days).</summary>
    public BatchLimits Limits { get; init; } = new();

    /// <summary>How many errors the report lists; all of them are counted.</summary>
    public int MaxReportedErrors { get; init; } = 100;

    /// <summary>Parts read at the same time.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}
