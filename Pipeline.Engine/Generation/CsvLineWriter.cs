using System.Globalization;
using System.Text;

namespace Pipeline.Engine.Generation;

/// <summary>Builds CSV lines in a reused buffer and writes them as UTF-8, without per-value strings.</summary>
internal sealed class CsvLineWriter(Stream destination) : IDisposable
{
    private readonly StreamWriter _writer = new(destination, new UTF8Encoding(false), 1 << 16);
    private readonly char[] _line = new char[512];
    private int _length;
    private int _fields;

    public CsvLineWriter Text(ReadOnlySpan<char> value)
    {
        Separate();
        value.CopyTo(_line.AsSpan(_length));
        _length += value.Length;
        return this;
    }

    public CsvLineWriter Number(long value) => Formatted(value, default);

    /// <summary>An amount in cents, written like the seed data: 43.4, 120.0, 81.64.</summary>
    public CsvLineWriter Money(long cents)
    {
        Formatted(cents / 100, default);
        long fraction = cents % 100;
        bool oneDigit = fraction % 10 == 0;
        _line[_length++] = '.';
        (oneDigit ? fraction / 10 : fraction).TryFormat(_line.AsSpan(_length), out int written, oneDigit ? default : "00", CultureInfo.InvariantCulture);
        _length += written;
        return this;
    }

    /// <summary>yyyy-MM-ddTHH:mm:ss, or an empty field when there is no such time.</summary>
    public CsvLineWriter Timestamp(DateTime? value) => value is { } time ? Formatted(time, "s") : Text(default);

    public void EndLine()
    {
        _line[_length++] = '\n';
        _writer.Write(_line, 0, _length);
        _length = 0;
        _fields = 0;
    }

    public void Dispose() => _writer.Dispose();

    private CsvLineWriter Formatted<T>(T value, ReadOnlySpan<char> format)
        where T : ISpanFormattable
    {
        Separate();
        value.TryFormat(_line.AsSpan(_length), out int written, format, CultureInfo.InvariantCulture);
        _length += written;
        return this;
    }

    private void Separate()
    {
        if (_fields++ > 0)
        {
            _line[_length++] = ',';
        }
    }
}
