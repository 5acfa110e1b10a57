namespace AppHost.Aws;

/// <summary>The <c>Aws:Emulator</c> setting: where the services find AWS.</summary>
public enum AwsEmulatorMode
{
    /// <summary>LocalStack when a container engine answers, otherwise the npm emulators.</summary>
    Auto,

    /// <summary>The LocalStack container on port 4566.</summary>
    LocalStack,

    /// <summary>fauxqs (S3, SQS, SNS on 4566) and dynalite (DynamoDB on 8000), run by Node; no Docker needed.</summary>
    Emulators,

    /// <summary>A real AWS account: the default credential chain and <c>Aws:Region</c>.</summary>
    None,
}
