using System.Collections.Concurrent;
using Pipeline.Testing.Aws;

namespace Reliability.Tests.Faults;

/// <summary>The share of calls that get each fault, and the longest added latency.</summary>
public sealed record FaultRates(double Throttling, double InternalError, double Dropped, double AnswerLost, double Latency, TimeSpan MaxLatency)
{
    /// <summary>About one call in eight faulted: the SDKs' own retries absorb most, the bus's retries and redeliveries the rest.</summary>
    public static readonly FaultRates Default = new(
        Throttling: 0.04, InternalError: 0.02, Dropped: 0.015, AnswerLost: 0.015, Latency: 0.04, MaxLatency: TimeSpan.FromSeconds(1.5));
}

/// <summary>
/// Decides, per call, which fault the proxy injects. Each service draws from a generator of its own seeded from the
/// run's seed, so the same seed gives each service the same sequence of faults (which call meets which depends on the
/// processes' timing). Counts every fault by kind and service.
/// </summary>
public sealed class FaultPlan(int seed, FaultRates rates) : IAwsCallPlan
{
    private readonly Dictionary<AwsService, Random> _random = AwsServices.All.ToDictionary(s => s, s => new Random(HashCode.Combine(seed, (int)s)));
    private readonly ConcurrentDictionary<(AwsService Service, FaultKind Kind), long> _counts = new();
    private readonly ConcurrentDictionary<Emulator, DateTimeOffset> _outages = new();
    private long _calls;
    private volatile bool _active;

    /// <summary>Faults are injected only while active; calls are forwarded untouched otherwise.</summary>
    public bool Active
    {
        get => _active;
        set => _active = value;
    }

    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Makes <paramref name="emulator"/> unreachable through the proxy for <paramref name="duration"/>.</summary>
    public void BeginOutage(Emulator emulator, TimeSpan duration) => _outages[emulator] = DateTimeOffset.UtcNow + duration;

    public ProxyDecision Decide(AwsCall call)
    {
        var service = call.Service;
        Interlocked.Increment(ref _calls);
        if (_outages.TryGetValue(service.EmulatorOf(), out var until) && DateTimeOffset.UtcNow < until)
        {
            return Count(service, new ProxyDecision(FaultKind.Unreachable, TimeSpan.Zero));
        }
        if (!_active)
        {
            return default;
        }
        double draw, latency;
        var random = _random[service];
        lock (random)
        {
            (draw, latency) = (random.NextDouble(), random.NextDouble());
        }
        FaultKind? kind = null;
        foreach (var (candidate, share) in new[]
        {
            (FaultKind.Throttling, rates.Throttling), (FaultKind.InternalError, rates.InternalError), (FaultKind.Dropped, rates.Dropped),
            (FaultKind.AnswerLost, rates.AnswerLost), (FaultKind.Latency, rates.Latency),
        })
        {
            if (draw < share)
            {
                kind = candidate;
                break;
            }
            draw -= share;
        }
        return kind is null ? default : Count(service, new ProxyDecision(kind, kind == FaultKind.Latency ? rates.MaxLatency * latency : TimeSpan.Zero));
    }

    private ProxyDecision Count(AwsService service, ProxyDecision decision)
    {
        _counts.AddOrUpdate((service, decision.Fault!.Value), 1, (_, n) => n + 1);
        return decision;
    }

    public long Total => _counts.Values.Sum();

    public IReadOnlyDictionary<FaultKind, long> ByKind =>
        _counts.GroupBy(c => c.Key.Kind).ToDictionary(g => g.Key, g => g.Sum(c => c.Value));

    public IReadOnlyDictionary<AwsService, long> ByService =>
        _counts.GroupBy(c => c.Key.Service).ToDictionary(g => g.Key, g => g.Sum(c => c.Value));
}
