using System.Globalization;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Validation;

/// <summary>
/// Strict, allocation-free parsers for the field formats the rules allow. Each returns false
/// for anything the old system's contract does not accept (signs, spaces, separators, bad dates).
/// </summary>
public static class FieldParsers
{
    /// <summary>A positive integer of up to 18 digits (so it cannot overflow a long).</summary>
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
        date = default;
        if (text.Length != 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':')
        {
            return false;
        }

        int year = (Digit(text[0]) * 1000) + (Digit(text[1]) * 100) + (Digit(text[2]) * 10) + Digit(text[3]);
        int month = (Digit(text[5]) * 10) + Digit(text[6]);
        int day = (Digit(text[8]) * 10) + Digit(text[9]);
        int hour = (Digit(text[11]) * 10) + Digit(text[12]);
        int minute = (Digit(text[14]) * 10) + Digit(text[15]);
        int second = (Digit(text[17]) * 10) + Digit(text[18]);

        // A non-digit makes its Digit negative beyond any sum of the others, so one check covers all.
        if ((year | month | day | hour | minute | second) < 0 || year < 1 || month is < 1 or > 12 || day < 1 ||
            day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        date = new DateOnly(year, month, day);
        return true;
    }

    /// <summary>
    /// A non-negative decimal in invariant format: digits with at most one '.', at least one digit,
    /// no sign, exponent or thousands separator.
    /// </summary>
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

    /// <summary>The digit's value, or a large negative number (-100,000) for any other character.</summary>
    private static int Digit(char c) => (uint)(c - '0') <= 9 ? c - '0' : -100_000;
}
