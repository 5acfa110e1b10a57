using Services.Validate.Uploads;

namespace Services.Validate.Handlers;

/// <summary>
/// A submission on the bus (<c>pipeline submit</c>, any producer): taken up as every submission is
/// (<see cref="SubmissionIntake"/>). One that names no batch of this pipeline is poison: dead-lettered at once with the field named.
/// </summary>
public sealed class BatchSubmittedHandler(SubmissionIntake intake) : IIntegrationEventHandler<BatchSubmitted>
{
    public Task HandleAsync(BatchSubmitted message, MessageContext context, CancellationToken cancellationToken) =>
        intake.TakeUpAsync(message, context, cancellationToken);
}
