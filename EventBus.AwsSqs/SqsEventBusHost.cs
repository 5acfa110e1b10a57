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
    /// <summary>Whether this bus receives at all (a bus without handlers only publishes).</summary>
    public bool Receives => registration.Subscriptions.All.Count > 0 || registration.PlainJsonQueues.Count > 0;

    /// <summary>The receive endpoints, once all of them started; empty before.</summary>
    public IReadOnlyList<SqsReceiveEndpoint> Endpoints { get; private set; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        settings.Validate();
        var logger = loggers.CreateLogger<SqsReceiveEndpoint>();
        var endpoints = new List<SqsReceiveEndpoint>();

        // A bus without subscriptions only publishes (a command line tool, say): it needs no queue.
        if (registration.Subscriptions.All.Count > 0)
        {
            var topics = registration.Subscriptions.All
                .Select(s => MessageNaming.ScopedEntityName(MessageNaming.EntityNameOf(s.MessageType), settings.TopicScope))
                .Distinct().ToList();
            var queue = await topology.EndpointAsync(settings.QueueName!, topics, settings, cancellationToken).ConfigureAwait(false);
            endpoints.Add(new SqsReceiveEndpoint(sqs, queue, settings,
                new MessageDelivery(sqs, scopes, queue, BodyFormat.Envelope, registration.Subscriptions, settings, logger), logger));
        }
        foreach (var (queueName, subscriptions) in registration.PlainJsonQueues)
        {
            var queue = await topology.EndpointAsync(queueName, [], settings, cancellationToken).ConfigureAwait(false);
            endpoints.Add(new SqsReceiveEndpoint(sqs, queue, settings,
                new MessageDelivery(sqs, scopes, queue, BodyFormat.PlainJson, subscriptions, settings, logger), logger));
        }
        endpoints.ForEach(e => e.Start());
        Endpoints = endpoints;
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Endpoints.Select(e => e.StopAsync(cancellationToken)));
}
