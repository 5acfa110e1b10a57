using Microsoft.Extensions.Options;
using Pipeline.Engine.DataQuality;

namespace Services.Notifier.Handlers;

/// <summary>Settings that cannot work stop the Notifier at start, naming each setting (like <c>FreshnessOptionsValidation</c>).</summary>
public sealed class AnomalyOptionsValidation : IValidateOptions<AnomalyOptions>
{
    public ValidateOptionsResult Validate(string? name, AnomalyOptions options) =>
        options.Enabled && options.Problems().ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
