using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Validation;

/// <summary>
/// Strict, allocation-free parsers for the field formats the rules allow. Each returns false
/// for anything the old system's contract does not accept (signs, spaces, separators, bad dates).
/// </summary>
public static class FieldParsers
{
    /// <summary>A positive integer of up to 18 digits (so it cannot overflow a long).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParsePositiveId(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 18)
        {
            return false;
        }

        foreach (char c in text)
        {
            uint digit = (uint)(c - '0');
            if (digit > 9)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        return value > 0;
    }

    /// <summary>A positive integer of up to 9 digits.</summary>
    public static bool TryParsePositiveCount(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        if (text.Length > 9 || !TryParsePositiveId(text, out long parsed))
        {
            return false;
        }

        value = (int)parsed;
        return true;
    }

    /// <summary>
    /// Exactly <c>yyyy-MM-ddTHH:mm:ss</c> with a real calendar date and time of day;
    /// gives the date part as written (no time-zone shift).
    /// </summary>
    public static bool TryParseTimestamp(ReadOnlySpan<char> text, out DateOnly date)
    {
        bool valid = TryParseTimestampParts(text, out int year, out int month, out int day, out _);
        date = valid ? new DateOnly(year, month, day) : default;
        return valid;
    }

    /// <summary>
    /// <see cref="TryParseTimestamp"/> as the instant it names, in UTC (<see cref="DateTimeKind.Utc"/>): the contract's
    /// timestamps carry no offset and are UTC, to the second (no fraction is accepted).
    /// </summary>
    public static bool TryParseUtcTimestamp(ReadOnlySpan<char> text, out DateTime utc)
    {
        bool valid = TryParseTimestampParts(text, out int year, out int month, out int day, out int secondOfDay);
        utc = valid
            ? new DateTime((new DateOnly(year, month, day).DayNumber * TimeSpan.TicksPerDay) + (secondOfDay * TimeSpan.TicksPerSecond), DateTimeKind.Utc)
            : default;
        return valid;
    }

    /// <summary><see cref="TryParseTimestamp"/> for a timestamp that is only checked: no date is built.</summary>
    public static bool IsTimestamp(ReadOnlySpan<char> text) => TryParseTimestampParts(text, out _, out _, out _, out _);

    private const int TimestampLength = 19;

    // The timestamp's layout as three overlapping runs of 8 characters (0-7, 8-15, 11-18); '0' stands for any digit.
    private static readonly Vector128<ushort> TimestampStart = Pattern("0000-00-");
    private static readonly Vector128<ushort> TimestampMiddle = Pattern("00T00:00");
    private static readonly Vector128<ushort> TimestampEnd = Pattern("00:00:00");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryParseTimestampParts(ReadOnlySpan<char> text, out int year, out int month, out int day, out int secondOfDay)
    {
        year = month = day = secondOfDay = 0;
        if (text.Length != TimestampLength || !HasTimestampShape(text))
        {
            return false;
        }

        // Every digit position is known to hold one: the values need no more character checks.
        year = (TwoDigits(text, 0) * 100) + TwoDigits(text, 2);
        month = TwoDigits(text, 5);
        day = TwoDigits(text, 8);
        int hour = TwoDigits(text, 11), minute = TwoDigits(text, 14), second = TwoDigits(text, 17);
        secondOfDay = (((hour * 60) + minute) * 60) + second;
        return year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month) &&
            hour <= 23 && minute <= 59 && second <= 59;
    }

    /// <summary>
    /// Digits and separators where <c>yyyy-MM-ddTHH:mm:ss</c> has them, checked 8 characters at a time
    /// (every row has several timestamps).
    /// </summary>
    private static bool HasTimestampShape(ReadOnlySpan<char> text)
    {
        ref ushort first = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(text));
        return Matches(Vector128.LoadUnsafe(ref first), TimestampStart)
            && Matches(Vector128.LoadUnsafe(ref first, 8), TimestampMiddle)
            && Matches(Vector128.LoadUnsafe(ref first, TimestampLength - 8), TimestampEnd);
    }

    private static bool Matches(Vector128<ushort> chars, Vector128<ushort> pattern)
    {
        Vector128<ushort> digitLanes = Vector128.Equals(pattern, Vector128.Create((ushort)'0'));
        Vector128<ushort> isDigit = Vector128.LessThanOrEqual(chars - Vector128.Create((ushort)'0'), Vector128.Create((ushort)9));
        Vector128<ushort> isSeparator = Vector128.Equals(chars, pattern);
        return Vector128.ConditionalSelect(digitLanes, isDigit, isSeparator) == Vector128<ushort>.AllBitsSet;
    }

    private static Vector128<ushort> Pattern(string eightChars) => Vector128.Create(MemoryMarshal.Cast<char, ushort>(eightChars.AsSpan()));

    private static int TwoDigits(ReadOnlySpan<char> text, int start) => ((text[start] - '0') * 10) + (text[start + 1] - '0');

    /// <summary>
    /// A non-negative decimal in invariant format: digits with at most one '.', at least one digit,
    /// no sign, exponent or thousands separator.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParseSalePrice(ReadOnlySpan<char> text, out decimal value)
    {
        value = 0;
        ulong mantissa = 0;
        int digits = 0;
        int scale = -1;
        foreach (char c in text)
        {
            uint digit = (uint)(c - '0');
            if (digit <= 9)
            {
                if (digits > 0 || digit != 0)
                {
                    digits++;
                }

                mantissa = unchecked((mantissa * 10) + digit);
                if (scale >= 0)
                {
                    scale++;
                }
            }
            else if (c == '.' && scale < 0)
            {
                scale = 0;
            }
            else
            {
                return false;
            }
        }

        if (text.Length == 0 || (text.Length == 1 && scale == 0))
        {
            return false;
        }

        scale = Math.Max(scale, 0);
        if (digits <= 19 && scale <= 28)
        {
            value = new decimal((int)mantissa, (int)(mantissa >> 32), 0, false, (byte)scale);
            return true;
        }

        // Rare: more digits than a ulong holds; the characters are already known to be valid.
        return decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParseStatus(ReadOnlySpan<char> text, out OrderStatus status)
    {
        status = text switch
        {
            OrderStatusText.Delivered => OrderStatus.Delivered,
            OrderStatusText.Returned => OrderStatus.Returned,
            OrderStatusText.Shipped => OrderStatus.Shipped,
            OrderStatusText.Pending => OrderStatus.Pending,
            _ => (OrderStatus)(-1),
        };
        return status >= 0;
    }
}
