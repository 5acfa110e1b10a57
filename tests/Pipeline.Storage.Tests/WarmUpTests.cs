using Amazon.DynamoDBv2;
using Amazon.S3;
using Aws.Sns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Topology;
using Pipeline.Topology.Access;
using ServiceDefaults.Aws;

namespace Pipeline.Storage.Tests;

/// <summary>The start-up warm-up of every service runs to its end on the real emulators and writes nothing.</summary>
public sealed class WarmUpTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    [Fact]
    public async Task Each_services_warm_up_runs_through_and_leaves_no_object_and_no_item()
    {
        await using var services = new ServiceCollection()
            .AddSingleton(aws.Topology)
            .AddSingleton<IAmazonS3>(aws.CreateS3())
            .AddSingleton<IAmazonDynamoDB>(aws.CreateDynamoDb())
            .AddSingleton(SnsClient.Create(AwsClientFactory.SnsOptions(aws.Aws, aws.Credentials)))
            .BuildServiceProvider();
        var all = new PipelineServices(aws.Topology);

        await PipelineWarmUp.EngineAsync(services, CancellationToken.None);
        await PipelineWarmUp.CuratedAsync(CancellationToken.None);
        foreach (var access in new[] { all.Validate, all.Transform, all.Compute, all.Notifier })
        {
            await PipelineWarmUp.AwsAsync(services, access, CancellationToken.None);
        }

        using var s3 = aws.CreateS3();
        Assert.Empty((await s3.ListObjectsV2Async(new() { BucketName = aws.Topology.Bucket.Name })).S3Objects ?? []);
        using var dynamoDb = aws.CreateDynamoDb();
        foreach (var table in aws.Topology.Tables)
        {
            var scan = await dynamoDb.ScanAsync(new Amazon.DynamoDBv2.Model.ScanRequest { TableName = table.Name });
            Assert.True(scan.Items is null or { Count: 0 }, $"{table.Name} has {scan.Items?.Count} items after the warm-up");
        }
    }
}

/// <summary>A service is not ready before its warm-up is over, and a failed step does not keep it from becoming ready.</summary>
public sealed class WarmUpReadinessTests
{
    [Fact]
    public async Task The_readiness_check_is_unhealthy_until_every_step_is_done_then_healthy_even_after_a_failed_step()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddHealthChecks();
        builder.Services
            .AddWarmUp("fails", (_, _) => throw new InvalidOperationException("no emulator"))
            .AddWarmUp("waits", (_, ct) => gate.Task.WaitAsync(ct));
        using var host = builder.Build();
        await host.StartAsync();
        var health = host.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>();

        var before = await health.CheckHealthAsync();
        Assert.Equal(
            Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy,
            before.Entries[Microsoft.Extensions.Hosting.WarmUpExtensions.HealthCheckName].Status);

        gate.SetResult();
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport after;
        do
        {
            await Task.Delay(50);
            after = await health.CheckHealthAsync();
        }
        while (after.Status != Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy && DateTimeOffset.UtcNow < deadline);
        Assert.Equal(
            Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy,
            after.Entries[Microsoft.Extensions.Hosting.WarmUpExtensions.HealthCheckName].Status);
        await host.StopAsync();
    }
}
