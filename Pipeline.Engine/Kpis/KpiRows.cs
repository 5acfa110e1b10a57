namespace Pipeline.Engine.Kpis;

/// <summary>A row of category_kpis.csv.</summary>
public sealed record CategoryKpiRow(string Category, DateOnly OrderDate, decimal DailyRevenue, double AvgOrderValue, double AvgReturnRate);

/// <summary>A row of order_kpis.csv.</summary>
public sealed record OrderKpiRow(
    DateOnly OrderDate,
    long TotalOrders,
    decimal TotalRevenue,
    long TotalItemsSold,
    double ReturnRate,
    long UniqueCustomers);

/// <summary>Both KPI tables, sorted (category then date; date).</summary>
public sealed record KpiTables(IReadOnlyList<CategoryKpiRow> CategoryKpis, IReadOnlyList<OrderKpiRow> OrderKpis);
