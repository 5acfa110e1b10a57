using EventBus;
using Pipeline.Contracts;

namespace Services.Validate.Handlers;

public sealed class BatchSubmittedHandler(BatchValidation validation, ILogger<BatchSubmittedHandler> logger) : IIntegrationEventHandler<BatchSubmitted>
{
    public async Task HandleAsync(BatchSubmitted message, MessageContext context, CancellationToken cancellationToken)
    {
        using (logger.BeginScope(new Dictionary<string, object> { ["BatchId"] = message.BatchId }))
        {
            await validation.ValidateAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }
}
