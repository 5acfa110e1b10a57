using System.Net;
using System.Text;

namespace Pipeline.Testing.Aws;

/// <summary>An error answer as the real service writes it, so that the SDKs classify it as they would in AWS.</summary>
public sealed record AwsError(HttpStatusCode Status, string ContentType, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public byte[] BodyBytes => Encoding.UTF8.GetBytes(Body);
}

/// <summary>
/// Throttling and internal errors in each service's protocol: S3's REST XML, SNS's query XML, and the JSON protocols of
/// DynamoDB and SQS (whose query-compatible error code travels in <c>x-amzn-query-error</c> too).
/// </summary>
public static class AwsErrors
{
    public static AwsError Throttling(AwsService service, string requestId) => service switch
    {
        AwsService.S3 => S3Xml(HttpStatusCode.ServiceUnavailable, "SlowDown", "Please reduce your request rate.", requestId),
        AwsService.Sns => SnsXml(HttpStatusCode.BadRequest, "Sender", "Throttling", "Rate exceeded", requestId),
        AwsService.Sqs => SqsJson(HttpStatusCode.BadRequest, "RequestThrottled", "Sender", "Request is throttled.", requestId),
        _ => DynamoDbJson(HttpStatusCode.BadRequest, "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded.", requestId),
    };

    public static AwsError InternalError(AwsService service, string requestId) => service switch
    {
        AwsService.S3 => S3Xml(HttpStatusCode.InternalServerError, "InternalError", "We encountered an internal error. Please try again.", requestId),
        AwsService.Sns => SnsXml(HttpStatusCode.InternalServerError, "Receiver", "InternalError", "Request could not be processed.", requestId),
        AwsService.Sqs => SqsJson(HttpStatusCode.InternalServerError, "InternalError", "Receiver", "An internal error occurred.", requestId),
        _ => DynamoDbJson(HttpStatusCode.InternalServerError, "InternalServerError", "Internal server error", requestId),
    };

    private static AwsError S3Xml(HttpStatusCode status, string code, string message, string requestId) => new(status, "application/xml",
        """<?xml version="1.0" encoding="UTF-8"?>""" +
        $"""<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{requestId}</RequestId><HostId>fault-proxy</HostId></Error>""",
        new Dictionary<string, string> { ["x-amz-request-id"] = requestId });

    private static AwsError SnsXml(HttpStatusCode status, string type, string code, string message, string requestId) => new(status, "text/xml",
        """<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">""" +
        $"""<Error><Type>{type}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{requestId}</RequestId></ErrorResponse>""",
        new Dictionary<string, string> { ["x-amzn-RequestId"] = requestId });

    private static AwsError SqsJson(HttpStatusCode status, string code, string fault, string message, string requestId) => new(
        status, "application/x-amz-json-1.0",
        $$"""{"__type":"com.amazonaws.sqs#{{code}}","message":"{{message}}"}""",
        new Dictionary<string, string> { ["x-amzn-RequestId"] = requestId, ["x-amzn-query-error"] = $"{code};{fault}" });

    private static AwsError DynamoDbJson(HttpStatusCode status, string code, string message, string requestId) => new(status, "application/x-amz-json-1.0",
        $$"""{"__type":"com.amazonaws.dynamodb.v20120810#{{code}}","message":"{{message}}"}""",
        new Dictionary<string, string> { ["x-amzn-RequestId"] = requestId });
}
