using System.Globalization;
using Pipeline.Storage.Runs;

namespace Services.Dashboard.Components;

/// <summary>How numbers read on screen (invariant culture). Exports and the API keep full precision.</summary>
public static class Display
{
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    /// <summary>Money as stored: grouped, at least the cents, and every further digit there is (never rounded: a decimal has at most 28).</summary>
    public static string Money(decimal value) => value.ToString(MoneyFormat, Culture);

    private static readonly string MoneyFormat = "#,0.00" + new string('#', 26);

    /// <summary>A money figure that is a quotient (an average), to the cent.</summary>
    public static string Money(double value) => value.ToString("#,0.00", Culture);

    /// <summary>Rates are stored as percentages (18.42 is 18.42 %).</summary>
    public static string Percent(double value) => value.ToString("0.00", Culture) + " %";

    public static string Count(long value) => value.ToString("#,0", Culture);

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", Culture);

    public static string Time(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Culture) + " UTC" : "—";

    public static string Duration(double? seconds) => seconds switch
    {
        null => "—",
        < 1 => $"{seconds.Value * 1000:0} ms",
        < 120 => string.Create(Culture, $"{seconds.Value:0.0} s"),
        _ => string.Create(Culture, $"{seconds.Value / 60:0.0} min"),
    };

    /// <summary>A CSS class per status, for its badge.</summary>
    public static string StatusClass(RunStatus status) => "status status-" + status.ToString().ToLowerInvariant();
}
