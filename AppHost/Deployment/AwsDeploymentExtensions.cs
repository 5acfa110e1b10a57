using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AppHost.Deployment;

/// <summary>
/// The AWS deployment in Aspire's pipeline: <c>aspire publish</c> writes the plan, the template and the images (the
/// deploy command's dry run), <c>aspire deploy</c> deploys the stack, <c>aspire destroy</c> deletes it. Each step runs the
/// same command as <c>dotnet run --project Deploy -- deploy|destroy</c> (docs/deploy.md), into the pipeline's output
/// folder, with the settings of the <c>Deploy</c> configuration section.
/// </summary>
public static class AwsDeploymentExtensions
{
    public const string PlanStep = "aws-plan";
    public const string DeployStep = "aws-deploy";
    public const string DestroyStep = "aws-destroy";

    public static IDistributedApplicationBuilder AddAwsDeployment(this IDistributedApplicationBuilder builder)
    {
        var command = new DeployCommandRunner(
            Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "Deploy")), builder.Configuration.GetSection("Deploy"));
        builder.Pipeline.AddStep(PlanStep, context => command.RunAsync(context, "deploy", "--dry-run"), requiredBy: WellKnownPipelineSteps.Publish);
        builder.Pipeline.AddStep(DeployStep, context => command.RunAsync(context, "deploy"), requiredBy: WellKnownPipelineSteps.Deploy);
        builder.Pipeline.AddStep(DestroyStep,
            async context => await command.RunAsync(context, "destroy", await ConfirmedAsync(context, command.StackDescription)),
            requiredBy: WellKnownPipelineSteps.Destroy);
        return builder;
    }

    /// <summary>
    /// <c>aspire destroy --yes</c>, or a yes to Aspire's own prompt, confirms for the deploy command (which cannot ask from
    /// inside the pipeline: without <c>--yes</c> it refuses and deletes nothing).
    /// </summary>
    private static async Task<string[]> ConfirmedAsync(PipelineStepContext context, string stack)
    {
        if (context.Services.GetRequiredService<IOptions<PipelineOptions>>().Value.SkipConfirmation)
        {
            return ["--yes"];
        }
        var interaction = context.Services.GetRequiredService<IInteractionService>();
        if (!interaction.IsAvailable)
        {
            return [];
        }
        var answer = await interaction.PromptInputAsync($"Delete {stack} in AWS?",
            "Everything in it is deleted except the resources that hold data (the bucket, the tables, the dead-letter queues): " +
            "the deploy command lists what is left.",
            new InteractionInput { Name = "delete", Label = "Delete it", InputType = InputType.Boolean, Required = true },
            cancellationToken: context.CancellationToken);
        return answer is { Canceled: false, Data.Value: "true" or "True" } ? ["--yes"] : [];
    }
}
