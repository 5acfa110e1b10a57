using EventBus;
using Pipeline.Contracts;

namespace Services.Transform.Handlers;

public sealed class BatchValidatedHandler(BatchTransformation transformation, ILogger<BatchValidatedHandler> logger) : IIntegrationEventHandler<BatchValidated>
{
    public async Task HandleAsync(BatchValidated message, MessageContext context, CancellationToken cancellationToken)
    {
        using (logger.BeginScope(new Dictionary<string, object> { ["BatchId"] = message.BatchId }))
        {
            await transformation.TransformAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }
}
