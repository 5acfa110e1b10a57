using AppHost.Aws;
using AppHost.Commands;
using AppHost.Deployment;
using Pipeline.Topology;
using Pipeline.Topology.Access;

var builder = DistributedApplication.CreateBuilder(args);

var aws = builder.AddAwsEnvironment();
var topology = new PipelineTopology(builder.Configuration[TopologyExtensions.BucketNameKey]);
var services = new PipelineServices(topology);

var provisioner = builder.AddProject<Projects.Pipeline_Provisioner>("provisioner")
    .WithAws(aws);

builder.AddProject<Projects.Services_Validate>("validate")
    .WithAws(aws)
    .WaitForCompletion(provisioner)
    .WithHttpHealthCheck("/health")
    .WithSubmitSampleBatchCommand(aws, topology)
    .WithRedriveDeadLettersCommand(aws, services.Validate);

builder.AddProject<Projects.Services_Transform>("transform")
    .WithAws(aws)
    .WaitForCompletion(provisioner)
    .WithHttpHealthCheck("/health")
    .WithRedriveDeadLettersCommand(aws, services.Transform);

builder.AddProject<Projects.Services_Compute>("compute")
    .WithAws(aws)
    .WaitForCompletion(provisioner)
    .WithHttpHealthCheck("/health")
    .WithRedriveDeadLettersCommand(aws, services.Compute);

builder.AddProject<Projects.Services_Notifier>("notifier")
    .WithAws(aws)
    .WaitForCompletion(provisioner)
    .WithHttpHealthCheck("/health")
    .WithRedriveDeadLettersCommand(aws, services.Notifier);

// The KPI dashboard at a fixed address in `dotnet run` (a random one under tests, like every endpoint there).
builder.AddProject<Projects.Services_Dashboard>("dashboard")
    .WithAws(aws)
    .WaitForCompletion(provisioner)
    .WithHttpHealthCheck("/health")
    .WithEndpoint("http", endpoint => endpoint.Port = DashboardAddress.Port)
    .WithUrlForEndpoint("http", url => url.DisplayText = "KPI dashboard")
    .WithAspireDashboardLink(builder.Configuration)
    .WithSubmitSampleBatchCommand(aws, topology);

// aspire publish | deploy | destroy: the AWS stack, by the Deploy command (docs/deploy.md).
builder.AddAwsDeployment();

builder.Build().Run();
