namespace Deploy;

/// <summary>The stack's outputs a user needs after a deployment (the deploy command prints them by these names).</summary>
public static class StackOutputNames
{
    /// <summary>Where batches are uploaded.</summary>
    public const string BucketName = "BucketName";

    public const string DashboardUrl = "DashboardUrl";

    /// <summary>The topic every batch's Succeeded or Failed alert goes to.</summary>
    public const string AlertsTopicArn = "AlertsTopicArn";

    /// <summary>The topic the operations alarms go to.</summary>
    public const string OperationsTopicArn = "OperationsTopicArn";

    /// <summary>The dashboard's own user pool, when the stack made it: where people who may sign in are added.</summary>
    public const string DashboardUserPoolId = "DashboardUserPoolId";

    /// <summary>The Athena workgroup analysts query the curated tables in.</summary>
    public const string AnalyticsWorkgroup = "AnalyticsWorkgroup";

    /// <summary>The managed policy to attach to the analysts' role or group.</summary>
    public const string AnalystsPolicyArn = "AnalystsPolicyArn";
}
