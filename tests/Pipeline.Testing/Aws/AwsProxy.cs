using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServiceDefaults.Aws;

namespace Pipeline.Testing.Aws;

/// <summary>
/// An HTTP proxy in the test (or benchmark) process between the services and the emulators, one listener per AWS
/// service on 127.0.0.1, that does to each call what its <see cref="IAwsCallPlan"/> decides: delays it, answers with a
/// fault, or passes it on. Calls are forwarded byte for byte with their Host header, so SigV4 signatures stay what the
/// client signed and the emulators build the same URLs and ARNs.
/// </summary>
public sealed class AwsProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Expect", "Host",
    };

    private readonly IAwsCallPlan _plan;
    private readonly Dictionary<AwsService, WebApplication> _listeners = [];
    private readonly TaskCompletionSource<IReadOnlyDictionary<Emulator, Uri>> _targets = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HttpClient _forward = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
    })
    { Timeout = Timeout.InfiniteTimeSpan };

    private AwsProxy(IAwsCallPlan plan) => _plan = plan;

    /// <summary>Where each service's clients are to send their calls.</summary>
    public IReadOnlyDictionary<AwsService, Uri> Endpoints { get; private set; } = new Dictionary<AwsService, Uri>();

    public static async Task<AwsProxy> StartAsync(IAwsCallPlan plan)
    {
        var proxy = new AwsProxy(plan);
        var endpoints = new Dictionary<AwsService, Uri>();
        foreach (var service in AwsServices.All)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Listen(IPAddress.Loopback, 0);
                kestrel.Limits.MaxRequestBodySize = null; // multipart parts of 8 MiB
            });
            var app = builder.Build();
            app.Run(context => proxy.HandleAsync(service, context));
            await app.StartAsync();
            proxy._listeners[service] = app;
            endpoints[service] = new Uri(app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        }
        proxy.Endpoints = endpoints;
        return proxy;
    }

    /// <summary>Points <paramref name="project"/>'s AWS clients at the proxy (<c>Aws:ServiceUrls</c>, see ServiceDefaults' AwsOptions).</summary>
    public void Route(IResourceBuilder<ProjectResource> project)
    {
        foreach (var (service, endpoint) in Endpoints)
        {
            project.WithEnvironment($"Aws__ServiceUrls__{service.ConfigurationKey()}", endpoint.ToString());
        }
    }

    /// <summary>The emulators' addresses, known once the app has started them (<see cref="EmulatorApp.Aws"/>); calls before that wait.</summary>
    public void SetTargets(AwsOptions emulators) => _targets.TrySetResult(new Dictionary<Emulator, Uri>
    {
        [Emulator.Fauxqs] = emulators.ServiceUrl ?? throw new ArgumentException("no ServiceUrl for the emulators", nameof(emulators)),
        [Emulator.Dynalite] = emulators.ServiceUrls["DynamoDB"],
    });

    private async Task HandleAsync(AwsService service, HttpContext context)
    {
        var target = (await _targets.Task.WaitAsync(context.RequestAborted))[service.EmulatorOf()];
        var decision = _plan.Decide(await AwsOperations.OfAsync(service, context.Request, context.RequestAborted));
        if (decision.Delay > TimeSpan.Zero)
        {
            await Task.Delay(decision.Delay, context.RequestAborted);
        }
        if (decision.Fault is FaultKind.Dropped or FaultKind.Unreachable)
        {
            context.Abort();
            return;
        }
        if (decision.Fault is FaultKind.Throttling or FaultKind.InternalError)
        {
            var requestId = Guid.NewGuid().ToString("N");
            var error = decision.Fault == FaultKind.Throttling ? AwsErrors.Throttling(service, requestId) : AwsErrors.InternalError(service, requestId);
            await WriteErrorAsync(context, error);
            return;
        }

        using var request = ForwardedRequest(context, target);
        HttpResponseMessage response;
        try
        {
            response = await _forward.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (Exception) when (!context.RequestAborted.IsCancellationRequested)
        {
            context.Abort(); // the emulator did not answer: neither does the proxy
            return;
        }
        using (response)
        {
            if (decision.Fault == FaultKind.AnswerLost)
            {
                await response.Content.CopyToAsync(Stream.Null, context.RequestAborted); // the call has had its effect
                context.Abort();
                return;
            }
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    private static HttpRequestMessage ForwardedRequest(HttpContext context, Uri target)
    {
        var incoming = context.Request;
        var rawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var request = new HttpRequestMessage(new HttpMethod(incoming.Method), new Uri(target, rawTarget));
        request.Headers.Host = incoming.Host.Value;
        if (incoming.ContentLength > 0 || incoming.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(incoming.Body);
        }
        foreach (var (name, values) in incoming.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }
            if (!request.Headers.TryAddWithoutValidation(name, values.ToArray()))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }
        return request;
    }

    private static async Task WriteErrorAsync(HttpContext context, AwsError error)
    {
        context.Response.StatusCode = (int)error.Status;
        foreach (var (name, value) in error.Headers)
        {
            context.Response.Headers[name] = value;
        }
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return; // a HEAD answer has no body: S3 clients read the status alone
        }
        context.Response.ContentType = error.ContentType;
        await context.Response.Body.WriteAsync(error.BodyBytes, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var listener in _listeners.Values)
        {
            await listener.DisposeAsync();
        }
        _forward.Dispose();
    }
}
