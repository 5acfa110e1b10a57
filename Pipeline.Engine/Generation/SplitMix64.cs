namespace Pipeline.Engine.Generation;

/// <summary>
/// A tiny, fast PRNG with a fixed algorithm, so generated data is the same on every machine and
/// .NET version. Seeded per order, any order can be generated without generating the ones before.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public static SplitMix64 For(ulong seed, long key) => new(seed ^ ((ulong)key * 0x9E3779B97F4A7C15UL));

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, bound).</summary>
    public long Below(long bound) => (long)(Next() % (ulong)bound);

    /// <summary>Uniform in [min, max].</summary>
    public long Between(long min, long max) => min + Below(max - min + 1);
}
