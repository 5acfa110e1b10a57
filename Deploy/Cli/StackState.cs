namespace Deploy.Cli;

/// <summary>What the deploy command does with the stack it finds.</summary>
public enum StackCourse
{
    /// <summary>No stack yet (or one that a change set made and never ran, with no resources): a first create.</summary>
    Create,

    /// <summary>
    /// ROLLBACK_COMPLETE: a first create failed and was rolled back. CloudFormation cannot update such a stack, and it holds
    /// nothing (a failed create's rollback removes even the data resources, <c>RetainExceptOnCreate</c>): the CDK CLI
    /// deletes it before it creates the stack anew, so this is a first create too.
    /// </summary>
    CreateAfterFailedCreate,

    /// <summary>A stack that stands (created, updated, or an update rolled back): an update.</summary>
    Update,

    /// <summary>An operation is running on it: CloudFormation accepts no other until it ends.</summary>
    Busy,

    /// <summary>A failed state CloudFormation cannot deploy from, which needs a person to look at what is left.</summary>
    Stuck,
}

/// <summary>A stack's status as CloudFormation's DescribeStacks gives it (null: no such stack), with the reason it gives.</summary>
public sealed record StackState(string? Status, string? Reason)
{
    public static readonly StackState Absent = new(null, null);

    public StackCourse Course => Status switch
    {
        null or "REVIEW_IN_PROGRESS" or "DELETE_COMPLETE" => StackCourse.Create,
        "ROLLBACK_COMPLETE" => StackCourse.CreateAfterFailedCreate,
        _ when Status.EndsWith("_IN_PROGRESS", StringComparison.Ordinal) => StackCourse.Busy,
        // UPDATE_FAILED stays only with rollback turned off, and may be updated again.
        _ when Status.EndsWith("_FAILED", StringComparison.Ordinal) && Status != "UPDATE_FAILED" => StackCourse.Stuck,
        _ => StackCourse.Update,
    };

    public bool IsFirstCreate => Course is StackCourse.Create or StackCourse.CreateAfterFailedCreate;

    /// <summary>
    /// The check's line: what was found and what the deploy does with it, or what stops it and the exact commands that
    /// resolve it (<paramref name="aws"/> completes an AWS CLI command with the deployment's region and profile).
    /// </summary>
    public CheckResult Check(string checkName, string stackName, Func<string, string> aws)
    {
        var why = Reason is { Length: > 0 } reason ? $" ({reason})" : "";
        var events = $"its events say what: {aws($"cloudformation describe-stack-events --stack-name {stackName}")}";
        var delete = aws($"cloudformation delete-stack --stack-name {stackName}");
        return (Course, Status) switch
        {
            (StackCourse.Create, null) => new(checkName, CheckOutcome.Passed, $"{stackName} does not exist yet: a first create"),
            (StackCourse.Create, _) => new(checkName, CheckOutcome.Passed,
                $"{stackName} is {Status} (no resources: a change set that never ran made it): a first create"),
            (StackCourse.CreateAfterFailedCreate, _) => new(checkName, CheckOutcome.Passed,
                $"{stackName} is ROLLBACK_COMPLETE: its first create failed{why} and was rolled back. CloudFormation cannot update such a stack; " +
                "it holds nothing (the rollback removed the data resources too), so the CDK CLI deletes it and creates it anew: a first create"),
            (StackCourse.Update, _) => new(checkName, CheckOutcome.Passed, $"{stackName} exists ({Status}): an update"),
            (StackCourse.Busy, _) => new(checkName, CheckOutcome.Failed, $"{stackName} is {Status}: another operation is running on it",
                $"wait until it ends ({events}), then run this again"),
            (_, "UPDATE_ROLLBACK_FAILED") => new(checkName, CheckOutcome.Failed,
                $"{stackName} is UPDATE_ROLLBACK_FAILED: an update failed and so did its rollback{why}",
                $"fix what stopped the rollback ({events}), then {aws($"cloudformation continue-update-rollback --stack-name {stackName}")}, " +
                "and run this again"),
            (_, "DELETE_FAILED") => new(checkName, CheckOutcome.Failed, $"{stackName} is DELETE_FAILED: its deletion failed{why}",
                $"remove what stopped it ({events}), finish the deletion ({delete}), and run this again"),
            (_, "ROLLBACK_FAILED" or "CREATE_FAILED") => new(checkName, CheckOutcome.Failed,
                $"{stackName} is {Status}: its first create failed{why} and CloudFormation could not delete everything it had made",
                $"remove what is left ({events}; a table that keeps deletion protection: " +
                $"{aws("dynamodb update-table --table-name <table> --no-deletion-protection-enabled")}), then delete the stack ({delete}) " +
                "and run this again: a new first create"),
            _ => new(checkName, CheckOutcome.Failed, $"{stackName} is {Status}{why}: CloudFormation cannot deploy it in this state", events),
        };
    }
}
