using AppHost.Aws;

var builder = DistributedApplication.CreateBuilder(args);

var aws = builder.AddAwsEnvironment();

var provisioner = builder.AddProject<Projects.Pipeline_Provisioner>("provisioner")
    .WithAws(aws);

builder.AddProject<Projects.Services_Validate>("validate")
    .WithAws(aws)
    .WaitForCompletion(provisioner)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Services_Transform>("transform")
    .WithAws(aws)
    .WaitForCompletion(provisioner)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Services_Compute>("compute")
    .WithAws(aws)
    .WaitForCompletion(provisioner)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Services_Notifier>("notifier")
    .WithAws(aws)
    .WaitForCompletion(provisioner)
    .WithHttpHealthCheck("/health");

builder.Build().Run();
