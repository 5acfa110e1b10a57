using Amazon.SQS;
using Aws.Sns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EventBus.AwsSqs;

public static class SqsEventBusExtensions
{
    /// <summary>
    /// The name of the bus's health check (not tagged <c>live</c>: a readiness check, reported on <c>/health</c>): unhealthy
    /// while a receive loop is not running, degraded while receives keep failing.
    /// </summary>
    public const string HealthCheckName = "event-bus";

    /// <summary>
    /// Adds the event bus over SQS/SNS: <see cref="IEventBus"/> publishes to a topic per message type, and the handlers
    /// added on the returned builder receive from the queue <paramref name="endpointName"/> (or
    /// <see cref="SqsEventBusOptions.QueueName"/>). Options are read from the <c>EventBus</c> section, then
    /// <paramref name="configure"/>. Needs <see cref="IAmazonSQS"/> and <see cref="SnsClient"/> in the services.
    /// </summary>
    public static SqsEventBusBuilder AddSqsEventBus(this IHostApplicationBuilder builder, string endpointName, Action<SqsEventBusOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpointName);
        var services = builder.Services;
        if (services.Any(s => s.ServiceType == typeof(SqsBusRegistration)))
        {
            throw new InvalidOperationException("The SQS event bus is already added; a service has one endpoint (add plain JSON queues to it).");
        }

        var registration = new SqsBusRegistration(endpointName);
        services.AddSingleton(registration);
        services.AddOptions<SqsEventBusOptions>()
            .Bind(builder.Configuration.GetSection(SqsEventBusOptions.SectionName))
            .Configure(options => configure?.Invoke(options))
            .PostConfigure(options => options.QueueName = SqsNames.CheckQueueName(
                string.IsNullOrWhiteSpace(options.QueueName) ? endpointName : options.QueueName));
        services.TryAddSingleton(sp => new SqsTopology(
            sp.GetRequiredService<IAmazonSQS>(), sp.GetRequiredService<SnsClient>(), sp.GetRequiredService<IOptions<SqsEventBusOptions>>().Value.Topology));
        services.TryAddSingleton<IEventBus>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SqsEventBusOptions>>().Value;
            return new SqsEventBus(
                sp.GetRequiredService<SnsClient>(), sp.GetRequiredService<SqsTopology>(), options.QueueName!, options.MaxMessageBytes, options.TopicScope);
        });
        // The host cancels the bus's stop at its own deadline (30 s by default, no more than the bus's drain): raise it to
        // what the drain needs, so that ShutdownTimeout is the one setting.
        services.AddOptions<HostOptions>().PostConfigure<IOptions<SqsEventBusOptions>>((host, bus) =>
            host.ShutdownTimeout = host.ShutdownTimeout > bus.Value.HostShutdownTimeout ? host.ShutdownTimeout : bus.Value.HostShutdownTimeout);
        services.AddSingleton<SqsEventBusHost>();
        services.AddHostedService(sp => sp.GetRequiredService<SqsEventBusHost>());
        services.AddHealthChecks().AddCheck<SqsEventBusHealthCheck>(HealthCheckName);
        return new SqsEventBusBuilder(services, registration);
    }
}

/// <summary>Adds the handlers of the service's endpoint, and plain JSON queues.</summary>
public sealed class SqsEventBusBuilder : IEventBusBuilder
{
    private readonly SqsBusRegistration _registration;

    internal SqsEventBusBuilder(IServiceCollection services, SqsBusRegistration registration)
    {
        Services = services;
        _registration = registration;
    }

    public IServiceCollection Services { get; }

    public string EndpointName => _registration.EndpointName;

    /// <inheritdoc cref="IEventBusBuilder.AddSubscription{TMessage, THandler}"/>
    public SqsEventBusBuilder AddSubscription<TMessage, THandler>()
        where TMessage : class
        where THandler : class, IIntegrationEventHandler<TMessage>
    {
        _registration.Subscriptions.Add<TMessage, THandler>();
        Services.TryAddScoped<THandler>();
        return this;
    }

    IEventBusBuilder IEventBusBuilder.AddSubscription<TMessage, THandler>() => AddSubscription<TMessage, THandler>();

    /// <summary>
    /// Receives plain JSON <typeparamref name="TMessage"/> bodies (no envelope) from <paramref name="queueName"/>, such as
    /// S3 event notifications. The queue and its <c>_error</c> dead-letter queue follow the bus's topology mode.
    /// </summary>
    public SqsEventBusBuilder AddPlainJsonQueue<TMessage, THandler>(string queueName)
        where TMessage : class
        where THandler : class, IIntegrationEventHandler<TMessage>
    {
        SqsNames.CheckQueueName(queueName);
        var subscriptions = new EventBusSubscriptions();
        subscriptions.Add<TMessage, THandler>();
        if (!_registration.PlainJsonQueues.TryAdd(queueName, subscriptions))
        {
            throw new InvalidOperationException($"Queue {queueName} already has a plain JSON handler.");
        }
        Services.TryAddScoped<THandler>();
        return this;
    }
}
