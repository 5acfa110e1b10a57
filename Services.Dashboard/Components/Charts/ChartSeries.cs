namespace Services.Dashboard.Components.Charts;

/// <summary>One line of a chart: a name for the legend, its colour, a value per day, and the days whose value is an open anomaly (marked).</summary>
public sealed record ChartSeries(string Name, string Color, IReadOnlyList<ChartPoint> Points, IReadOnlySet<DateOnly>? Anomalous = null);

public readonly record struct ChartPoint(DateOnly Day, double Value);

/// <summary>Twenty colours that stay apart from each other on white (one per category).</summary>
public static class ChartPalette
{
    private static readonly string[] Colors =
    [
        "#1f6fb4", "#e8710a", "#2a9d3a", "#c92a2a", "#7a4fc0", "#8c564b", "#d6409f", "#5c5c5c", "#9c9a12", "#138a9c",
        "#2f3b8f", "#5d7a1f", "#a07015", "#8f2f2b", "#7b4173", "#3c8dce", "#b34700", "#1f7a4a", "#6b5fb0", "#404040",
    ];

    public static string Color(int index) => Colors[index % Colors.Length];
}
