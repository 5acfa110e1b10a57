using System.Xml.Linq;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;

namespace Aws.Query;

/// <summary>
/// An AWS API spoken over the Query protocol: form POSTs (<see cref="QueryForm"/>) signed with SigV4 for
/// <paramref name="SigningName"/>, answered in XML in the namespace <paramref name="Xmlns"/> (<see cref="QueryProtocol"/>).
/// </summary>
/// <param name="Name">The API as errors name it, such as <c>SNS</c>.</param>
/// <param name="SigningName">The service in signatures and endpoint names, such as <c>sns</c>.</param>
/// <param name="Version">The API version every form names, such as <c>2010-03-31</c>.</param>
public sealed record QueryApi(string Name, string SigningName, string Version, XNamespace Xmlns)
{
    /// <summary>The handler that signs each request for this API in <paramref name="region"/> (it signs again on every retry).</summary>
    public SigV4SigningHandler CreateSigningHandler(AWSCredentials credentials, string region, HttpMessageHandler? inner = null) =>
        new(credentials, RegionEndpoint.GetBySystemName(region), SigningName, inner ?? new SocketsHttpHandler());

    /// <summary>The API's public endpoint in <paramref name="region"/>.</summary>
    public Uri Endpoint(string region) => new($"https://{SigningName}.{region}.amazonaws.com/");

    /// <summary>The form of one call of <paramref name="action"/>.</summary>
    public QueryForm Form(string action) => new(this, action);
}
