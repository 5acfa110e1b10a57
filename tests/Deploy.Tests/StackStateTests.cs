using Deploy.Cli;

namespace Deploy.Tests;

/// <summary>
/// What the deploy command makes of the stack's state (CloudFormation's DescribeStacks; the answers for a missing and an
/// existing stack are read from moto's server in <see cref="DeployCommandTests"/>). moto creates every stack at once, so
/// the states of a failure are taken here as CloudFormation names them.
/// </summary>
public sealed class StackStateTests
{
    private const string Stack = "pipeline";

    private static string Aws(string command) => $"aws {command} --region eu-west-1";

    [Theory]
    [InlineData(null, StackCourse.Create)]
    [InlineData("REVIEW_IN_PROGRESS", StackCourse.Create)] // a change set made it and never ran: no resources
    [InlineData("ROLLBACK_COMPLETE", StackCourse.CreateAfterFailedCreate)]
    [InlineData("CREATE_COMPLETE", StackCourse.Update)]
    [InlineData("UPDATE_COMPLETE", StackCourse.Update)]
    [InlineData("UPDATE_ROLLBACK_COMPLETE", StackCourse.Update)]
    [InlineData("UPDATE_FAILED", StackCourse.Update)] // rollback turned off: it may be updated again
    [InlineData("CREATE_IN_PROGRESS", StackCourse.Busy)]
    [InlineData("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", StackCourse.Busy)]
    [InlineData("ROLLBACK_IN_PROGRESS", StackCourse.Busy)]
    [InlineData("DELETE_IN_PROGRESS", StackCourse.Busy)]
    [InlineData("ROLLBACK_FAILED", StackCourse.Stuck)]
    [InlineData("CREATE_FAILED", StackCourse.Stuck)]
    [InlineData("UPDATE_ROLLBACK_FAILED", StackCourse.Stuck)]
    [InlineData("DELETE_FAILED", StackCourse.Stuck)]
    public void Each_state_is_a_first_create_an_update_or_a_stop_and_only_the_first_two_pass_the_check(string? status, StackCourse course)
    {
        var state = new StackState(status, null);

        Assert.Equal(course, state.Course);
        Assert.Equal(course is StackCourse.Create or StackCourse.CreateAfterFailedCreate, state.IsFirstCreate);
        var check = state.Check("CloudFormation stack", Stack, Aws);
        Assert.Equal(course is StackCourse.Busy or StackCourse.Stuck ? CheckOutcome.Failed : CheckOutcome.Passed, check.Outcome);
        Assert.Equal(check.Outcome == CheckOutcome.Failed, check.Fix is not null);
    }

    [Fact]
    public void A_stack_left_by_a_failed_first_create_is_said_to_be_replaced_by_a_first_create()
    {
        var check = new StackState("ROLLBACK_COMPLETE", "The following resource(s) failed to create: [ClusterEB0386A7]. Rollback requested by user.")
            .Check("CloudFormation stack", Stack, Aws);

        Assert.Equal(
            "ok       CloudFormation stack: pipeline is ROLLBACK_COMPLETE: its first create failed (The following resource(s) failed to create: " +
            "[ClusterEB0386A7]. Rollback requested by user.) and was rolled back. CloudFormation cannot update such a stack; it holds nothing " +
            "(the rollback removed the data resources too), so the CDK CLI deletes it and creates it anew: a first create",
            check.ToString());
    }

    [Fact]
    public void A_stack_that_cannot_be_deployed_stops_the_deploy_with_the_commands_that_free_it()
    {
        var rollbackFailed = new StackState("ROLLBACK_FAILED", "The following resource(s) failed to delete: [TablePipelineRuns].").Check("stack", Stack, Aws);
        Assert.Equal(
            "MISSING  stack: pipeline is ROLLBACK_FAILED: its first create failed (The following resource(s) failed to delete: [TablePipelineRuns].) " +
            "and CloudFormation could not delete everything it had made\n" +
            "           fix: remove what is left (its events say what: aws cloudformation describe-stack-events --stack-name pipeline --region eu-west-1; " +
            "a table that keeps deletion protection: aws dynamodb update-table --table-name <table> --no-deletion-protection-enabled --region eu-west-1), " +
            "then delete the stack (aws cloudformation delete-stack --stack-name pipeline --region eu-west-1) and run this again: a new first create",
            rollbackFailed.ToString());

        Assert.Contains("aws cloudformation continue-update-rollback --stack-name pipeline --region eu-west-1",
            new StackState("UPDATE_ROLLBACK_FAILED", null).Check("stack", Stack, Aws).Fix, StringComparison.Ordinal);
        Assert.Equal("MISSING  stack: pipeline is UPDATE_IN_PROGRESS: another operation is running on it\n" +
            "           fix: wait until it ends (its events say what: aws cloudformation describe-stack-events --stack-name pipeline --region eu-west-1), " +
            "then run this again",
            new StackState("UPDATE_IN_PROGRESS", null).Check("stack", Stack, Aws).ToString());
    }

    /// <summary>
    /// The deploy leaves a ROLLBACK_COMPLETE stack to the CDK CLI, whose deploy deletes a stack that failed creation before
    /// it creates it anew (aws-cdk 2.160's deployStack). Read in the pinned CLI, so that a new pin is checked again.
    /// </summary>
    [CdkCliFact]
    public void The_pinned_cdk_cli_deletes_a_stack_that_failed_creation_before_it_creates_it_again()
    {
        var source = File.ReadAllText(CdkCliFactAttribute.Bundle);

        Assert.Contains("""isCreationFailure(){return this.name==="ROLLBACK_COMPLETE"||this.name==="ROLLBACK_FAILED"}""", source, StringComparison.Ordinal);
        Assert.Contains("if(cloudFormationStack.stackStatus.isCreationFailure){debug(`Found existing stack ${deployName} " +
            "that had previously failed creation. Deleting it before attempting to re-create it.`);await cfn.deleteStack({StackName:deployName}).promise()",
            source, StringComparison.Ordinal);
    }

    /// <summary>Runs where the pinned CDK CLI is installed (.ci/run installs it), and says how to install it otherwise.</summary>
    private sealed class CdkCliFactAttribute : FactAttribute
    {
        public static readonly string Bundle = Path.Combine(RepositoryFolder.Root, "Deploy", "cdk", "node_modules", "aws-cdk", "lib", "index.js");

        public CdkCliFactAttribute()
        {
            if (!File.Exists(Bundle))
            {
                Skip = "the CDK CLI is not installed: run `npm ci --prefix Deploy/cdk` (.ci/run does).";
            }
        }
    }
}
