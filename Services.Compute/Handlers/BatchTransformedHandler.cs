using EventBus;
using Pipeline.Contracts;

namespace Services.Compute.Handlers;

public sealed class BatchTransformedHandler(KpiComputation computation, ILogger<BatchTransformedHandler> logger) : IIntegrationEventHandler<BatchTransformed>
{
    public async Task HandleAsync(BatchTransformed message, MessageContext context, CancellationToken cancellationToken)
    {
        using (logger.BeginScope(new Dictionary<string, object> { ["BatchId"] = message.BatchId }))
        {
            await computation.ComputeAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }
}
