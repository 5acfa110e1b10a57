using System.Runtime.CompilerServices;
using Pipeline.Engine.Batches;

namespace Pipeline.Engine.Transform;

/// <summary>
/// The distinct order dates a batch's rows fall on, counted against <see cref="BatchLimits.MaxDays"/>. The part readers
/// of all threads share it: a day already seen costs one bit test, a new one a short lock.
/// </summary>
internal sealed class BatchDays(int maxDays)
{
    private readonly ulong[] _seen = new ulong[(DateOnly.MaxValue.DayNumber >> 6) + 1];
    private int _count;

    public string LimitMessage { get; } =
        $"The batch's orders and items fall on more than {BatchLimits.Count(maxDays)} distinct days; " +
        $"at most {BatchLimits.Count(maxDays)} are allowed ({BatchLimits.Name(nameof(BatchLimits.MaxDays))}).";

    /// <summary>True when the day is one of the batch's days already or there is room for it (then it is one now).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryAdd(DateOnly day)
    {
        int word = day.DayNumber >> 6;
        ulong bit = 1UL << (day.DayNumber & 63);
        if ((Volatile.Read(ref _seen[word]) & bit) != 0)
        {
            return true;
        }

        lock (_seen)
        {
            if ((_seen[word] & bit) != 0)
            {
                return true;
            }

            if (_count == maxDays)
            {
                return false;
            }

            _count++;
            Volatile.Write(ref _seen[word], _seen[word] | bit);
            return true;
        }
    }
}
