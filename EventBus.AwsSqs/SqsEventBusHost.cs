using Amazon.SQS;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventBus.AwsSqs;

/// <summary>What one host's bus receives: its endpoint queue's subscriptions, and any plain JSON queues.</summary>
internal sealed class SqsBusRegistration(string endpointName)
{
    public string EndpointName { get; } = endpointName;
    public EventBusSubscriptions Subscriptions { get; } = new();
    public Dictionary<string, EventBusSubscriptions> PlainJsonQueues { get; } = new(StringComparer.Ordinal);
}

/// <summary>Ensures (or verifies) the topology at start, then runs a receive endpoint per queue until the host stops.</summary>
internal sealed class SqsEventBusHost(
    SqsBusRegistration registration,
    IOptions<SqsEventBusOptions> options,
    SqsTopology topology,
    IAmazonSQS sqs,
    IServiceScopeFactory scopes,
    ILoggerFactory loggers) : IHostedService
{
    private readonly List<SqsReceiveEndpoint> _endpoints = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        settings.Validate();
        var logger = loggers.CreateLogger<SqsReceiveEndpoint>();

        // A bus without subscriptions only publishes (a command line tool, say): it needs no queue.
        if (registration.Subscriptions.All.Count > 0)
        {
            var topics = registration.Subscriptions.All.Select(s => MessageNaming.EntityNameOf(s.MessageType)).Distinct().ToList();
            var queue = await topology.EndpointAsync(settings.QueueName!, topics, settings, cancellationToken).ConfigureAwait(false);
            _endpoints.Add(new SqsReceiveEndpoint(sqs, scopes, queue, BodyFormat.Envelope, registration.Subscriptions, settings, logger));
        }
        foreach (var (queueName, subscriptions) in registration.PlainJsonQueues)
        {
            var queue = await topology.EndpointAsync(queueName, [], settings, cancellationToken).ConfigureAwait(false);
            _endpoints.Add(new SqsReceiveEndpoint(sqs, scopes, queue, BodyFormat.PlainJson, subscriptions, settings, logger));
        }
        _endpoints.ForEach(e => e.Start());
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_endpoints.Select(e => e.StopAsync(cancellationToken)));
}
