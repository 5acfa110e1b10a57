using System.Globalization;
using System.Text.RegularExpressions;
using Pipeline.Engine.Collections;
using Pipeline.Engine.Transform;
using Pipeline.Engine.Validation;

namespace Pipeline.Engine.Tests;

public sealed class CollectionsAndParsersTests
{
    [Fact]
    public void IdSet_holds_dense_sparse_and_huge_ids_and_reports_overlaps_on_union()
    {
        long[] ids = [.. Enumerable.Range(1, 10_000).Select(id => (long)id), 5_000_000_000, 123_456_789_012_345, 4_096, 4_095];
        var set = new IdSet();
        int added = ids.Count(set.Add);

        Assert.Equal(10_002, added); // 4096 and 4095 were already in the range
        Assert.Equal(10_002, set.Count);
        Assert.True(set.Contains(5_000_000_000));
        Assert.False(set.Contains(10_001));
        Assert.Equal(ids.Distinct().Order(), set.Ordered());

        var other = new IdSet();
        other.Add(7);
        other.Add(20_000);
        other.Add(5_000_000_000);
        var overlaps = new List<long>();
        Assert.Equal(2, set.UnionWith(other, overlaps, int.MaxValue));
        Assert.Equal([7L, 5_000_000_000], overlaps.Order());
        Assert.True(set.Contains(20_000));
    }

    [Theory]
    [InlineData("2025-03-08T00:00:00", true)]
    [InlineData("2024-02-29T23:59:59", true)]
    [InlineData("2025-02-29T10:00:00", false)]
    [InlineData("2025-13-01T10:00:00", false)]
    [InlineData("2025-03-08T24:00:00", false)]
    [InlineData("2025-03-08 10:00:00", false)]
    [InlineData("2025-03-08T10:00", false)]
    [InlineData("2025-03-08T10:00:00Z", false)]
    [InlineData("2025-0a-08T10:00:00", false)]
    public void Timestamps_are_strict(string text, bool valid)
    {
        Assert.Equal(valid, FieldParsers.TryParseTimestamp(text, out _));
    }

    [Fact]
    public void Timestamps_with_any_one_character_changed_are_judged_like_the_format_says()
    {
        // Each position of valid timestamps replaced by characters around the digits and separators, non-ASCII digits
        // included: the parser must agree with a regular expression of the layout plus the calendar.
        var layout = new Regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$");
        char[] replacements = ['0', '1', '2', '3', '5', '9', '/', ':', ';', '-', 'T', 't', ' ', '\0', '\u0660', '\uFF10', '\u0130', '\uFFFD'];
        foreach (string valid in new[] { "2024-02-29T23:59:59", "0001-01-01T00:00:00", "9999-12-31T19:09:10" })
        {
            for (int position = 0; position < valid.Length; position++)
            {
                foreach (char replacement in replacements)
                {
                    string text = string.Concat(valid.AsSpan(0, position), [replacement], valid.AsSpan(position + 1));
                    bool expected = DateTime.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture,
                        DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime instant) && layout.IsMatch(text);
                    Assert.True(expected == FieldParsers.TryParseTimestamp(text, out DateOnly date), text);
                    Assert.True(expected == FieldParsers.IsTimestamp(text), text);
                    Assert.True(expected == FieldParsers.TryParseUtcTimestamp(text, out DateTime utc), text);
                    if (expected)
                    {
                        Assert.Equal(DateOnly.ParseExact(text[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture), date);
                        Assert.Equal((instant, DateTimeKind.Utc), (utc, utc.Kind));
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData("12.5", true)]
    [InlineData("0", true)]
    [InlineData(".5", true)]
    [InlineData("7.", true)]
    [InlineData("123456789012345678901234.5", true)]
    [InlineData("-1", false)]
    [InlineData("+1", false)]
    [InlineData("1,000.5", false)]
    [InlineData("1e3", false)]
    [InlineData(".", false)]
    [InlineData("", false)]
    [InlineData(" 1", false)]
    public void Sale_prices_are_non_negative_invariant_decimals(string text, bool valid)
    {
        Assert.Equal(valid, FieldParsers.TryParseSalePrice(text, out decimal value));
        if (valid && text.Length > 1)
        {
            Assert.Equal(decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture), value);
        }
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("007", true)]
    [InlineData("999999999999999999", true)]
    [InlineData("0", false)]
    [InlineData("-5", false)]
    [InlineData("1.0", false)]
    [InlineData("9999999999999999999", false)]
    public void Ids_are_positive_integers(string text, bool valid)
    {
        Assert.Equal(valid, FieldParsers.TryParsePositiveId(text, out _));
    }

    [Fact]
    public void Statuses_are_exactly_the_four_names()
    {
        Assert.True(FieldParsers.TryParseStatus("returned", out OrderStatus status));
        Assert.Equal(OrderStatus.Returned, status);
        Assert.False(FieldParsers.TryParseStatus("Returned", out _));
        Assert.False(FieldParsers.TryParseStatus("returned ", out _));
    }
}
