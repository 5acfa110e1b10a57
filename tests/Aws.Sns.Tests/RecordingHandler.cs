using System.Net;
using System.Text;

namespace Aws.Sns.Tests;

/// <summary>A request as it left the client's pipeline (after signing), with its body read out.</summary>
internal sealed record CapturedRequest(string Method, Uri Uri, Dictionary<string, string> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public Dictionary<string, string> Form =>
        Encoding.UTF8.GetString(Body).Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));
}

/// <summary>The innermost handler in unit tests: records what would go on the wire and answers with a fixed SNS reply.</summary>
internal sealed class RecordingHandler(HttpStatusCode status, string answer) : HttpMessageHandler
{
    public List<CapturedRequest> Requests { get; } = [];

    /// <summary>Answers given, one per request, before the fixed one (a throttled call, say).</summary>
    public Queue<(HttpStatusCode Status, string Answer)> First { get; } = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = string.Join(',', values);
        }
        foreach (var (name, values) in request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
        {
            headers[name] = string.Join(',', values);
        }
        // HttpClient adds Host only on the wire; what was signed is the URI's authority.
        headers.TryAdd("host", request.RequestUri!.IsDefaultPort ? request.RequestUri.Host : request.RequestUri.Authority);

        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        Requests.Add(new CapturedRequest(request.Method.Method, request.RequestUri!, headers, body));
        var (replyStatus, reply) = First.TryDequeue(out var first) ? first : (status, answer);
        return new HttpResponseMessage(replyStatus) { Content = new StringContent(reply, Encoding.UTF8, "text/xml") };
    }
}
