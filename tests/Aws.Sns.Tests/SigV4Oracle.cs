using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Aws.Sns.Tests;

/// <summary>
/// An independent Signature Version 4 calculator (from the AWS specification), used to check the signature that
/// the client's signing pipeline put on a captured request.
/// </summary>
internal static partial class SigV4Oracle
{
    public static string ExpectedSignature(CapturedRequest request, string secretKey)
    {
        var authorization = AuthorizationHeader().Match(request.Header("Authorization")!);
        var scope = authorization.Groups["scope"].Value; // AKID/yyyyMMdd/region/service/aws4_request
        var scopeParts = scope.Split('/');
        var signedHeaders = authorization.Groups["signed"].Value.Split(';');
        var amzDate = request.Header("X-Amz-Date")!;

        var canonicalHeaders = string.Concat(signedHeaders.Select(h => $"{h}:{request.Header(h)!.Trim()}\n"));
        var canonicalRequest = string.Join('\n',
            request.Method,
            request.Uri.AbsolutePath,
            request.Uri.Query.TrimStart('?'),
            canonicalHeaders,
            string.Join(';', signedHeaders),
            Hex(SHA256.HashData(request.Body)));

        var credentialScope = string.Join('/', scopeParts[1..]);
        var stringToSign = string.Join('\n', "AWS4-HMAC-SHA256", amzDate, credentialScope, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));

        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), scopeParts[1]);
        key = Hmac(key, scopeParts[2]);
        key = Hmac(key, scopeParts[3]);
        key = Hmac(key, "aws4_request");
        return Hex(Hmac(key, stringToSign));
    }

    public static string ActualSignature(CapturedRequest request) =>
        AuthorizationHeader().Match(request.Header("Authorization")!).Groups["signature"].Value;

    public static string Scope(CapturedRequest request) =>
        AuthorizationHeader().Match(request.Header("Authorization")!).Groups["scope"].Value;

    public static IReadOnlyList<string> SignedHeaders(CapturedRequest request) =>
        AuthorizationHeader().Match(request.Header("Authorization")!).Groups["signed"].Value.Split(';');

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<scope>[^,]+), ?SignedHeaders=(?<signed>[^,]+), ?Signature=(?<signature>[0-9a-f]{64})$")]
    private static partial Regex AuthorizationHeader();
}
