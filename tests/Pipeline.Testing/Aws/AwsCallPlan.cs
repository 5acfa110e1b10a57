namespace Pipeline.Testing.Aws;

/// <summary>One call through the <see cref="AwsProxy"/>: the service and its operation (<c>GetItem</c>, <c>PutObject</c>, <c>Publish</c>...).</summary>
public readonly record struct AwsCall(AwsService Service, string Operation)
{
    public override string ToString() => $"{Service} {Operation}";
}

/// <summary>What the proxy does to a call instead of passing it through untouched.</summary>
public enum FaultKind
{
    /// <summary>The service's throttling error, in its protocol (not forwarded).</summary>
    Throttling,

    /// <summary>A 500 in the service's protocol (not forwarded).</summary>
    InternalError,

    /// <summary>The connection is dropped before the call reaches the emulator.</summary>
    Dropped,

    /// <summary>The call is carried out, then the connection is dropped before the answer: the caller cannot tell.</summary>
    AnswerLost,

    /// <summary>The call waits (<see cref="ProxyDecision.Delay"/>) before it is forwarded.</summary>
    Latency,

    /// <summary>The emulator is unreachable (an outage): the connection is dropped.</summary>
    Unreachable,
}

/// <summary>What the proxy does with one call: waits <paramref name="Delay"/>, then injects <paramref name="Fault"/> or forwards the call.</summary>
/// <param name="Fault">None (or <see cref="FaultKind.Latency"/>): the call is forwarded.</param>
public readonly record struct ProxyDecision(FaultKind? Fault, TimeSpan Delay);

/// <summary>Decides, per call, what the <see cref="AwsProxy"/> does with it: faults for the reliability suite, AWS's latencies for the benchmark.</summary>
public interface IAwsCallPlan
{
    ProxyDecision Decide(AwsCall call);
}
