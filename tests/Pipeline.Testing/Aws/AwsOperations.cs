using Microsoft.AspNetCore.Http;

namespace Pipeline.Testing.Aws;

/// <summary>
/// The operation an SDK request stands for, read from the request as each protocol carries it: the <c>X-Amz-Target</c>
/// header of DynamoDB's and SQS's JSON protocols, the <c>Action</c> field of SNS's query form, and for S3's REST API the
/// method, the path (bucket, or bucket and key) and the sub-resource in the query.
/// </summary>
internal static class AwsOperations
{
    public static async Task<AwsCall> OfAsync(AwsService service, HttpRequest request, CancellationToken cancellationToken) => new(service, service switch
    {
        AwsService.DynamoDb or AwsService.Sqs => JsonTarget(request),
        AwsService.Sns => await SnsActionAsync(request, cancellationToken),
        _ => S3Operation(request),
    });

    /// <summary>The operation in <c>X-Amz-Target</c>: <c>DynamoDB_20120810.GetItem</c> is <c>GetItem</c>.</summary>
    private static string JsonTarget(HttpRequest request) =>
        request.Headers["X-Amz-Target"].ToString() is { Length: > 0 } target ? target[(target.LastIndexOf('.') + 1)..] : "Unknown";

    /// <summary>The form's <c>Action</c>; the body stays readable from its start, to be forwarded.</summary>
    private static async Task<string> SnsActionAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            return "Unknown";
        }
        request.EnableBuffering();
        var form = await request.ReadFormAsync(cancellationToken);
        request.Body.Position = 0;
        return form["Action"].ToString() is { Length: > 0 } action ? action : "Unknown";
    }

    private static string S3Operation(HttpRequest request)
    {
        var path = request.Path.Value?.TrimStart('/') ?? "";
        var onObject = path.IndexOf('/', StringComparison.Ordinal) is var slash && slash >= 0 && slash < path.Length - 1;
        var query = request.Query;
        var copy = request.Headers.ContainsKey("x-amz-copy-source");
        return request.Method switch
        {
            "HEAD" => onObject ? "HeadObject" : "HeadBucket",
            "GET" when query.ContainsKey("uploadId") => "ListParts",
            "GET" => onObject ? "GetObject" : query.ContainsKey("list-type") ? "ListObjectsV2" : "GetBucket",
            "PUT" when query.ContainsKey("partNumber") => copy ? "UploadPartCopy" : "UploadPart",
            "PUT" => onObject ? copy ? "CopyObject" : "PutObject" : "PutBucket",
            "POST" when query.ContainsKey("uploads") => "CreateMultipartUpload",
            "POST" when query.ContainsKey("uploadId") => "CompleteMultipartUpload",
            "POST" when query.ContainsKey("delete") => "DeleteObjects",
            "DELETE" when query.ContainsKey("uploadId") => "AbortMultipartUpload",
            "DELETE" => onObject ? "DeleteObject" : "DeleteBucket",
            _ => request.Method,
        };
    }
}
