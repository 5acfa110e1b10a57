using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Topology;
using Pipeline.Topology.Provisioning;

var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
var topology = builder.AddPipelineTopology();

using var host = builder.Build();
await host.StartAsync(); // starts telemetry export, so that provisioning shows up in the dashboard
using (PipelineTelemetry.ActivitySource.StartActivity("Provision pipeline topology"))
{
    var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
    await host.Services.GetRequiredService<TopologyProvisioner>().ApplyAsync(topology, stopping);
}
await host.StopAsync();
