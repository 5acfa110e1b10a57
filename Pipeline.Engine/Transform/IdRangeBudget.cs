using System.Collections.Concurrent;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Collections;
using Pipeline.Engine.Kpis;

namespace Pipeline.Engine.Transform;

/// <summary>
/// Thrown from a row's handler when its ids would take the batch beyond <see cref="BatchLimits.MaxIdRanges"/> or
/// <see cref="BatchLimits.MaxCustomerPages"/>.
/// </summary>
internal sealed class IdsTooScatteredException(string message) : Exception(message);

/// <summary>
/// Counts the distinct ranges of <see cref="IdSet.BlockSize"/> ids (an <see cref="IdSet"/> block) that a batch's order
/// ids, item ids and each day's customer ids take, as the part readers open them; dense ids take few, scattered ids one
/// each. What a batch holds in memory, and the key pages Validate claims, grow with these ranges, not with the rows; the
/// customers' pages of <see cref="CustomerPages.Size"/> ids per day are what Compute records for the batch. Shared by
/// the readers of all threads without a lock.
/// </summary>
internal sealed class IdRangeBudget(BatchLimits limits)
{
    public const int OrderIds = -1;
    public const int ItemIds = -2;

    // A customer range is keyed by its day number (>= 0); order and item ranges by the scopes above. Concurrent sets:
    // every worker's day sets open the same ranges, and a range charged already must not wait on a lock.
    private readonly ConcurrentDictionary<(int Scope, long Range), byte> _ranges = new();
    private readonly ConcurrentDictionary<(int Day, long Page), byte> _customerPages = new();
    private int _rangeCount;
    private int _customerPageCount;

    /// <summary>Notes a range of <paramref name="scope"/> (a day number for customers); throws when it is one too many.</summary>
    public void Charge(int scope, long range)
    {
        // Reads take no lock; TryAdd locks a stripe of the dictionary, so it is tried only for a range not seen yet.
        if (_ranges.ContainsKey((scope, range)) || !_ranges.TryAdd((scope, range), 0))
        {
            return;
        }

        if (Interlocked.Increment(ref _rangeCount) > limits.MaxIdRanges)
        {
            var allowed = BatchLimits.Count(limits.MaxIdRanges);
            throw new IdsTooScatteredException(
                $"The batch's order, item and customer ids fall on more than {allowed} ranges of {BatchLimits.Count(IdSet.BlockSize)} ids; " +
                $"at most {allowed} are allowed ({BatchLimits.Name(nameof(BatchLimits.MaxIdRanges))}): " +
                "ids this scattered cost memory and requests for every range.");
        }

        if (scope >= 0 && _customerPages.TryAdd((scope, CustomerPages.OfBlock(range)), 0) &&
            Interlocked.Increment(ref _customerPageCount) > limits.MaxCustomerPages)
        {
            var allowed = BatchLimits.Count(limits.MaxCustomerPages);
            throw new IdsTooScatteredException(
                $"The batch's customers fall on more than {allowed} pages of {BatchLimits.Count(CustomerPages.Size)} ids over its days; " +
                $"at most {allowed} are allowed ({BatchLimits.Name(nameof(BatchLimits.MaxCustomerPages))}).");
        }
    }

    /// <summary>The set a reader fills with ids of <paramref name="scope"/>, charging each new range here.</summary>
    public IdSet NewSet(int scope) => new(range => Charge(scope, range));
}
