using Pipeline.Engine.Kpis;
using Services.Dashboard.Reading;

namespace Services.Dashboard.Components;

/// <summary>What the KPI page shows: the range, its daily rows and every category's rows in it, and the open anomalies (of any day).</summary>
public sealed record KpiView(KpiRange Range, IReadOnlyList<OrderKpiRow> Daily, IReadOnlyList<CategoryKpiRow> Categories, IReadOnlyList<OpenAnomaly> Anomalies);

/// <summary>What the health page shows besides the last alert: queues, running versions, and the latest days' freshness.</summary>
public sealed record HealthView(IReadOnlyList<QueueDepth> Queues, IReadOnlyList<RunSummary> Running, FreshnessReport Freshness);

/// <summary>A batch's page: its detail, or none recorded.</summary>
public sealed record BatchView(BatchDetail? Batch);
