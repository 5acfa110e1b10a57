using System.Globalization;

namespace Services.Dashboard.Reading;

/// <summary>
/// What a reader of the KPIs asked for: a date range (either end may be left out) and optionally one category. The
/// API and the pages take the same parameters, checked here, so a bad value gets the same clear message in both.
/// </summary>
public sealed record KpiRequest(DateOnly? From, DateOnly? To, string? Category)
{
    public const string DateFormat = "yyyy-MM-dd";

    /// <summary>Three years at most in one answer: a year of daily rows is what the pages are built for.</summary>
    public const int MaxDays = 1096;

    /// <summary>A range with one end given is this many days long, ending or starting there.</summary>
    public const int DefaultDays = 31;

    public const int MaxCategoryLength = 200;

    /// <summary>Reads the parameters; <paramref name="error"/> says what is wrong when the answer is null.</summary>
    public static KpiRequest? Parse(string? from, string? to, string? category, out string? error)
    {
        error = null;
        var fromDate = ParseDate("from", from, ref error);
        var toDate = ParseDate("to", to, ref error);
        if (error is not null)
        {
            return null;
        }
        if (category is not null && (category.Length == 0 || category.Length > MaxCategoryLength || category.Any(char.IsControl)))
        {
            error = $"category must be a category name of 1 to {MaxCategoryLength} printable characters.";
            return null;
        }
        if (fromDate is { } f && toDate is { } t)
        {
            if (f > t)
            {
                error = $"from ({Format(f)}) is after to ({Format(t)}).";
                return null;
            }
            var days = t.DayNumber - f.DayNumber + 1;
            if (days > MaxDays)
            {
                error = $"the range {Format(f)} to {Format(t)} is {days} days; at most {MaxDays} days (three years) are answered at once.";
                return null;
            }
        }
        return new KpiRequest(fromDate, toDate, category);
    }

    /// <summary>
    /// The range asked for: both ends as given; one end, <see cref="DefaultDays"/> days from it (no further than the
    /// calendar goes); null when neither end was given (each reader has its own default).
    /// </summary>
    public KpiRange? AskedRange() => this switch
    {
        { From: { } from, To: { } to } => new KpiRange(from, to, Defaulted: false),
        { From: { } from } => new KpiRange(from, AddDays(from, DefaultDays - 1), Defaulted: false),
        { To: { } to } => new KpiRange(AddDays(to, -(DefaultDays - 1)), to, Defaulted: false),
        _ => null,
    };

    /// <summary><paramref name="day"/> moved by <paramref name="days"/>, stopping at the first and last days of the calendar.</summary>
    public static DateOnly AddDays(DateOnly day, int days) =>
        DateOnly.FromDayNumber(Math.Clamp(day.DayNumber + days, DateOnly.MinValue.DayNumber, DateOnly.MaxValue.DayNumber));

    public static string Format(DateOnly day) => day.ToString(DateFormat, CultureInfo.InvariantCulture);

    private static DateOnly? ParseDate(string name, string? text, ref string? error)
    {
        if (text is null)
        {
            return null;
        }
        if (DateOnly.TryParseExact(text, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return day;
        }
        error ??= $"{name} must be a date as yyyy-MM-dd (such as 2025-03-08), not '{Shorten(text)}'.";
        return null;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}

/// <summary>The inclusive range the KPIs are read for, with how it was chosen.</summary>
/// <param name="Defaulted">No range was asked for: the last <see cref="KpiRequest.DefaultDays"/> days that have data.</param>
public sealed record KpiRange(DateOnly From, DateOnly To, bool Defaulted);
