using Pipeline.Engine.DataQuality;

namespace Pipeline.Storage.DataQuality;

/// <summary>
/// A figure of a day that was found anomalous: what it was when opened (once cleared, its value and baseline then), and by
/// whose data. <see cref="BatchId"/> and
/// <see cref="Version"/> name the batch version whose fold opened it; <see cref="ClearedBy"/> the one whose fold brought it back.
/// </summary>
public sealed record AnomalyState(
    FigureKey Key,
    bool Open,
    double Value,
    double Baseline,
    double Spread,
    double Deviation,
    int History,
    string BatchId,
    int Version,
    DateTimeOffset OpenedAt,
    DateTimeOffset UpdatedAt,
    string? ClearedBy = null);
