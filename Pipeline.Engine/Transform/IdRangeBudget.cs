using Pipeline.Engine.Batches;

namespace Pipeline.Engine.Transform;

/// <summary>Thrown from a row's handler when its ids would take the batch beyond <see cref="BatchLimits.MaxIdRanges"/> or <see cref="BatchLimits.MaxCustomerPages"/>.</summary>
internal sealed class IdsTooScatteredException(string message) : Exception(message);

/// <summary>
/// Counts the distinct ranges of 4,096 ids (an <see cref="Collections.IdSet"/> block) that a batch's order ids, item
/// ids and each day's customer ids take, as the part readers open them; dense ids take few, scattered ids one each.
/// What a batch holds in memory, and the key pages Validate claims, grow with these ranges, not with the rows; the
/// customers' pages of 65,536 ids per day are what Compute records for the batch. Shared by the readers of all threads
/// (only a new block of a set takes the lock).
/// </summary>
internal sealed class IdRangeBudget(BatchLimits limits)
{
    public const int OrderIds = -1;
    public const int ItemIds = -2;

    // A customer range is keyed by its day number (>= 0); order and item ranges by the scopes above.
    private readonly HashSet<(int Scope, long Range)> _ranges = [];
    private readonly HashSet<(int Day, long Page)> _customerPages = [];

    /// <summary>Notes a range of <paramref name="scope"/> (a day number for customers); throws when it is one too many.</summary>
    public void Charge(int scope, long range)
    {
        lock (_ranges)
        {
            if (!_ranges.Add((scope, range)))
            {
                return;
            }

            if (_ranges.Count > limits.MaxIdRanges)
            {
                throw new IdsTooScatteredException(
                    $"The batch's order, item and customer ids fall on more than {BatchLimits.Count(limits.MaxIdRanges)} ranges of 4,096 ids; at most {BatchLimits.Count(limits.MaxIdRanges)} are allowed ({BatchLimits.Name(nameof(BatchLimits.MaxIdRanges))}): ids this scattered cost memory and requests for every range.");
            }

            // A page of 65,536 customer ids holds 16 ranges.
            if (scope >= 0 && _customerPages.Add((scope, range >> 4)) && _customerPages.Count > limits.MaxCustomerPages)
            {
                throw new IdsTooScatteredException(
                    $"The batch's customers fall on more than {BatchLimits.Count(limits.MaxCustomerPages)} pages of 65,536 ids over its days; at most {BatchLimits.Count(limits.MaxCustomerPages)} are allowed ({BatchLimits.Name(nameof(BatchLimits.MaxCustomerPages))}).");
            }
        }
    }

    /// <summary>The set a reader fills with ids of <paramref name="scope"/>, charging each new range here.</summary>
    public Collections.IdSet NewSet(int scope) => new(range => Charge(scope, range));
}
