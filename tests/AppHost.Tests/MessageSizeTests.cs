using System.Text;
using EventBus;
using EventBus.AwsSqs;
using Pipeline.Contracts;
using Pipeline.Engine.Batches;
using Pipeline.Storage.Batches;

namespace AppHost.Tests;

/// <summary>
/// The messages that grow with a batch stay within what the bus carries for a batch at every limit: the limits are what
/// keep a large batch from being accepted and then failing to announce itself.
/// </summary>
public sealed class MessageSizeTests
{
    private static readonly BatchLimits Limits = new();

    // The envelope's addresses, host and headers, and the message attributes (trace context, ids): well under this.
    private const int EnvelopeAllowance = 4 * 1024;

    private static readonly string LongestBatch = new('b', FieldLimits.BatchId);

    [Fact]
    public void BatchTransformed_for_the_most_files_with_the_longest_names_fits()
    {
        var prefix = BatchLayout.VersionFolder(BatchLayout.TransformedPrefix, LongestBatch, int.MaxValue);
        var keys = Enumerable.Range(0, Limits.MaxFiles - 1).Select(i => prefix + "order_items/" + $"{i:D6}".PadRight(96, 'p') + ".pen").ToList();

        AssertFits(new BatchTransformed(LongestBatch, new string('n', FieldLimits.Bucket), BatchLayout.ManifestKey(LongestBatch), int.MaxValue, prefix, keys,
            long.MaxValue, long.MaxValue, DateTimeOffset.MaxValue));
    }

    [Fact]
    public void KpisUpdated_for_the_most_categories_with_the_longest_non_ascii_names_over_a_replaced_versions_days_too_fits()
    {
        // Each character escaped as \uXXXX in the JSON: six bytes.
        var categories = Enumerable.Range(0, Limits.MaxCategories).Select(i => $"{i:D3}".PadRight(Limits.MaxCategoryChars, 'é')).ToList();
        var days = Enumerable.Range(0, 2 * Limits.MaxDays).Select(i => new DateOnly(2000, 1, 1).AddDays(i)).ToList();

        AssertFits(new KpisUpdated(LongestBatch, BatchLayout.ManifestKey(LongestBatch), int.MaxValue, [.. Enumerable.Range(1, 100)], days, categories,
            long.MaxValue, long.MaxValue, DateTimeOffset.MaxValue));
    }

    private static void AssertFits<T>(T message) where T : class
    {
        var bytes = Encoding.UTF8.GetByteCount(EnvelopeSerializer.Serialize(EnvelopeSerializer.Wrap(message, Guid.NewGuid(), DateTimeOffset.UtcNow)));
        Assert.InRange(bytes + EnvelopeAllowance, 0, SqsEventBusOptions.SnsMaxMessageBytes);
    }
}
