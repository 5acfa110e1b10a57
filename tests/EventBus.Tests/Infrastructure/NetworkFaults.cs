using System.Collections.Concurrent;
using System.Net.Sockets;
using Amazon.Runtime;

namespace EventBus.Tests.Infrastructure;

/// <summary>How a request fails under the SDK, and what the SDK then throws to its caller.</summary>
public enum NetworkFault
{
    /// <summary>No answer until the client's HTTP timeout gives up: the SDK throws <see cref="TimeoutException"/>.</summary>
    Timeout,

    /// <summary>
    /// The connection is torn down under the request; HttpClient's cancellation carries the stream's
    /// <see cref="ObjectDisposedException"/>, which the SDK unwraps and throws.
    /// </summary>
    ConnectionDropped,

    /// <summary>
    /// The request is cancelled by something other than the caller (a handler's own timeout,
    /// <see cref="HttpClient.CancelPendingRequests"/>): the SDK throws the <see cref="OperationCanceledException"/> as it is.
    /// </summary>
    Cancelled,
}

/// <summary>
/// A fault layer under real AWS SDK clients (their <see cref="ClientConfig.HttpClientFactory"/>): chosen requests fail
/// as the network stack fails them, and the SDK handles what comes back exactly as it would in production.
/// </summary>
public sealed class NetworkFaults(TimeSpan timeout) : HttpClientFactory
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<NetworkFault>> _planned = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Action, NetworkFault Fault)> _happened = new();
    private volatile TaskCompletionSource _healed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _cut;

    /// <summary>The HTTP timeout of the clients built on this layer.</summary>
    public TimeSpan Timeout { get; } = timeout;

    /// <summary>The faults that took effect so far, in order, by action (<c>X-Amz-Target</c>, as <c>AmazonSQS.ReceiveMessage</c>).</summary>
    public IReadOnlyList<(string Action, NetworkFault Fault)> Happened => [.. _happened];

    /// <summary>
    /// Fails the next requests of <paramref name="action"/> (<c>AmazonSQS.ReceiveMessage</c>, <c>DynamoDB_20120810.UpdateItem</c>),
    /// one fault each.
    /// </summary>
    public void Inject(string action, params NetworkFault[] faults)
    {
        var planned = _planned.GetOrAdd(action, _ => new());
        foreach (var fault in faults)
        {
            planned.Enqueue(fault);
        }
    }

    /// <summary>Every request from now on gets no answer, as if the process had lost the network (or died).</summary>
    public void Cut() => _cut = true;

    /// <summary>Lets requests that wait for an answer through, and fails no more.</summary>
    public void Heal()
    {
        _cut = false;
        _planned.Clear();
        var healed = _healed;
        _healed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        healed.TrySetResult();
    }

    /// <summary>Settings for an SDK client on this layer: its timeout, and no SDK retries, so that each fault fails the call.</summary>
    public TConfig Configure<TConfig>(TConfig config) where TConfig : ClientConfig
    {
        config.HttpClientFactory = this;
        config.Timeout = Timeout;
        config.MaxErrorRetry = 0;
        return config;
    }

    public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
        new(new FaultHandler(this) { InnerHandler = new SocketsHttpHandler() }) { Timeout = Timeout };

    private NetworkFault? Next(string action)
    {
        if (_cut)
        {
            return NetworkFault.Timeout;
        }
        return _planned.TryGetValue(action, out var planned) && planned.TryDequeue(out var fault) ? fault : null;
    }

    private sealed class FaultHandler(NetworkFaults faults) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var action = request.Headers.TryGetValues("X-Amz-Target", out var targets) ? targets.First() : request.Method.Method;
            switch (faults.Next(action))
            {
                case NetworkFault.Timeout:
                    try
                    {
                        await faults._healed.Task.WaitAsync(cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        faults._happened.Enqueue((action, NetworkFault.Timeout));
                        throw;
                    }
                    break;
                case NetworkFault.ConnectionDropped:
                    faults._happened.Enqueue((action, NetworkFault.ConnectionDropped));
                    throw new TaskCanceledException("The operation was canceled.", new ObjectDisposedException(typeof(NetworkStream).FullName));
                case NetworkFault.Cancelled:
                    faults._happened.Enqueue((action, NetworkFault.Cancelled));
                    throw new TaskCanceledException();
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
