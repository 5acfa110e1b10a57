using Pipeline.Topology;
using Pipeline.Topology.Provisioning;

var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.AddPipelineTopology();

using var host = builder.Build();
await host.StartAsync(); // starts telemetry export, so the provisioning shows up in the dashboard
var provisioner = host.Services.GetRequiredService<TopologyProvisioner>();
await provisioner.ApplyAsync(host.Services.GetRequiredService<PipelineTopology>(), host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
await host.StopAsync();
