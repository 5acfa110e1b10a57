using System.Net;
using Amazon.Runtime;

namespace Aws.Sns;

/// <summary>
/// An error answer from SNS. It is an <see cref="AmazonServiceException"/> like every other AWS SDK error,
/// so callers handle SNS the same way as S3, SQS or DynamoDB (<see cref="AmazonServiceException.ErrorCode"/>,
/// <see cref="AmazonServiceException.StatusCode"/>, <see cref="AmazonServiceException.RequestId"/>).
/// </summary>
public sealed class AmazonSnsException : AmazonServiceException
{
    public AmazonSnsException(string action, string errorCode, string message, ErrorType errorType, string? requestId, HttpStatusCode statusCode)
        : base($"SNS {action} failed: {errorCode}: {message}", errorType, errorCode, requestId ?? string.Empty, statusCode)
    {
        Action = action;
    }

    /// <summary>The SNS action that failed, such as <c>Publish</c>.</summary>
    public string Action { get; }
}
