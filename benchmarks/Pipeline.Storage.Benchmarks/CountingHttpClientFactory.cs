using System.Collections.Concurrent;
using Amazon.Runtime;

namespace Pipeline.Storage.Benchmarks;

/// <summary>An HTTP stack that counts the requests sent through it, by operation (from the <c>X-Amz-Target</c> header).</summary>
internal sealed class CountingHttpClientFactory : HttpClientFactory
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public int Total => _counts.Values.Sum();

    public void Clear() => _counts.Clear();

    public string Describe() => string.Join(", ", _counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)
        .Select(c => $"{c.Key} {c.Value}"));

    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Counting(this));

    private sealed class Counting(CountingHttpClientFactory owner) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var target = request.Headers.TryGetValues("X-Amz-Target", out var values) ? values.First() : request.Method.Method;
            owner._counts.AddOrUpdate(target[(target.IndexOf('.') + 1)..], 1, (_, n) => n + 1);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
