using Reliability.Tests.Faults;

namespace Reliability.Tests.Scenario;

/// <summary>How hard a run is: its seed, how long it goes on, and how much goes wrong meanwhile.</summary>
/// <param name="Seed">Fixes the batches, the kill and outage schedule, the fault draws and the copies: a failing run replays with it.</param>
/// <param name="Duration">Null: one round of batches (the suite). Otherwise rounds go on until this much time has passed (the soak).</param>
public sealed record ScenarioOptions(int Seed, TimeSpan? Duration = null)
{
    public FaultRates Faults { get; init; } = FaultRates.Default;

    /// <summary>How often each service is killed in a round of the suite; the soak kills one service every 15 to 45 s.</summary>
    public int KillsPerService { get; init; } = 3;

    /// <summary>How long an emulator is unreachable, once in the suite's round and every <see cref="OutageEvery"/> in the soak.</summary>
    public TimeSpan Outage { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan OutageEvery { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The share of stage messages published a second time, and the longest delay before the copy.</summary>
    public double DuplicateShare { get; init; } = 0.35;

    public TimeSpan MaxDuplicateDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Orders in the round's large batch.</summary>
    public int LargeBatchOrders { get; init; } = 20_000;

    /// <summary>How long the run waits for an alert, and for the system to fall quiet at the end.</summary>
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromMinutes(4);
}
