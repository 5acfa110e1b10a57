namespace Pipeline.Testing.Aws;

/// <summary>The AWS services the pipeline calls, each behind a listener of its own on the <see cref="AwsProxy"/>.</summary>
public enum AwsService
{
    S3,
    Sqs,
    Sns,
    DynamoDb,
}

/// <summary>The emulator processes behind them: fauxqs serves S3, SQS and SNS, dynalite DynamoDB.</summary>
public enum Emulator
{
    Fauxqs,
    Dynalite,
}

public static class AwsServices
{
    public static readonly AwsService[] All = Enum.GetValues<AwsService>();

    public static Emulator EmulatorOf(this AwsService service) => service == AwsService.DynamoDb ? Emulator.Dynalite : Emulator.Fauxqs;

    /// <summary>The key of <c>Aws:ServiceUrls</c> (see ServiceDefaults' AwsOptions) that points a service's clients at an endpoint.</summary>
    public static string ConfigurationKey(this AwsService service) => service switch
    {
        AwsService.S3 => "S3",
        AwsService.Sqs => "SQS",
        AwsService.Sns => "SNS",
        _ => "DynamoDB",
    };
}
