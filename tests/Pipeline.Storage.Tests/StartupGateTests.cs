using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Pipeline.Storage.Tests;

/// <summary>
/// Readiness gates start-up only: <c>/alive</c> (what ECS's container health check and the dashboard's load balancer ask)
/// fails until <c>/health</c> has passed once, and no longer looks at AWS afterwards, so an outage does not get every task
/// replaced at once.
/// </summary>
public sealed class StartupGateTests
{
    [Fact]
    public async Task Liveness_waits_for_readiness_once_then_survives_an_aws_outage_that_readiness_reports()
    {
        var awsReachable = false;
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddDefaultHealthChecks();
        builder.Services.AddHealthChecks().AddCheck("aws", () => awsReachable ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("S3 unreachable"));
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync();
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        // Not ready since start-up: not alive either, so a task that never gets ready is replaced and its deployment rolled back.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(503, (int)(await http.GetAsync("/alive")).StatusCode);
        Assert.Equal(1, HealthProbe.Probe(port));

        awsReachable = true;
        await WaitUntilAsync(async () => (await http.GetAsync("/alive")).IsSuccessStatusCode);
        Assert.Equal(0, HealthProbe.Probe(port));

        // AWS goes away: readiness says so, liveness (the container health check) does not.
        awsReachable = false;
        Assert.Equal(503, (int)(await http.GetAsync("/health")).StatusCode);
        Assert.Equal(200, (int)(await http.GetAsync("/alive")).StatusCode);
        Assert.Equal(0, HealthProbe.Probe(port));
        await app.StopAsync();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "liveness did not follow readiness within 30 s");
            await Task.Delay(100);
        }
    }
}
