namespace AppHost.Tests;

/// <summary>The application model the AppHost declares for each <c>Aws:Emulator</c> mode, without starting anything.</summary>
public class AppModelTests
{
    private static readonly string[] Services = ["provisioner", "validate", "transform", "compute", "notifier", "dashboard"];

    private static async Task<IDistributedApplicationTestingBuilder> AppHostIn(string mode, params string[] more) =>
        await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>([$"--Aws:Emulator={mode}", .. more]);

    [Fact]
    public async Task Auto_mode_uses_the_npm_emulators_when_no_container_engine_answers()
    {
        await using var builder = await AppHostIn("auto", "--ASPIRE_CONTAINER_RUNTIME=no-such-container-engine");

        Assert.Contains(builder.Resources, r => r.Name == "aws-emulator");
        Assert.DoesNotContain(builder.Resources, r => r.Name == "localstack");
    }

    [Fact]
    public async Task Auto_mode_uses_localstack_when_the_container_engine_answers()
    {
        // `true` stands in for an engine that answers `info` successfully.
        await using var builder = await AppHostIn("auto", "--ASPIRE_CONTAINER_RUNTIME=true");

        Assert.Contains(builder.Resources, r => r.Name == "localstack");
        Assert.DoesNotContain(builder.Resources, r => r.Name == "aws-emulator");
    }

    [Fact]
    public async Task Auto_mode_uses_the_npm_emulators_when_the_engine_answers_but_has_no_localstack_image_and_cannot_pull_it()
    {
        // An engine that answers `info` and refuses everything else, like podman on a machine without registry access.
        var engine = Path.Combine(Directory.CreateTempSubdirectory("apphost-tests-engine-").FullName, "engine");
        File.WriteAllText(engine, "#!/bin/sh\n[ \"$1\" = info ]\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(engine, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        await using var builder = await AppHostIn("auto", $"--ASPIRE_CONTAINER_RUNTIME={engine}");

        Assert.Contains(builder.Resources, r => r.Name == "aws-emulator");
        Assert.DoesNotContain(builder.Resources, r => r.Name == "localstack");
        Directory.Delete(Path.GetDirectoryName(engine)!, recursive: true);
    }

    [Fact]
    public async Task Localstack_mode_declares_the_pinned_localstack_container_on_port_4566_with_a_health_check()
    {
        await using var builder = await AppHostIn("localstack");

        var localStack = Assert.IsType<ContainerResource>(Assert.Single(builder.Resources, r => r.Name == "localstack"));
        var image = Assert.Single(localStack.Annotations.OfType<ContainerImageAnnotation>());
        Assert.Equal("localstack/localstack", image.Image);
        Assert.Matches(@"^\d+\.\d+\.\d+$", image.Tag); // a fixed release, never "latest"

        var endpoint = Assert.Single(localStack.Annotations.OfType<EndpointAnnotation>());
        Assert.Equal(4566, endpoint.Port);
        Assert.Equal(4566, endpoint.TargetPort);
        Assert.Single(localStack.Annotations.OfType<HealthCheckAnnotation>());

        Assert.DoesNotContain(builder.Resources, r => r.Name.EndsWith("-emulator", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Localstack_mode_points_every_service_at_localstack_and_makes_it_wait()
    {
        await using var builder = await AppHostIn("localstack");
        var localStack = builder.Resources.Single(r => r.Name == "localstack");

        foreach (var name in Services)
        {
            var service = builder.Resources.Single(r => r.Name == name);
            var environment = await EnvironmentOf(service);

            Assert.Equal("http://127.0.0.1:{localstack.bindings.http.port}", environment["Aws__ServiceUrl"]);
            Assert.False(environment.ContainsKey("Aws__ServiceUrls__DynamoDB")); // LocalStack serves DynamoDB on the same port
            Assert.Equal("us-east-1", environment["Aws__Region"]);
            Assert.Contains(service.Annotations.OfType<WaitAnnotation>(), w => w.Resource == localStack);
        }
    }

    [Fact]
    public async Task Emulators_mode_runs_both_npm_emulators_on_the_documented_ports_and_points_services_at_them()
    {
        await using var builder = await AppHostIn("emulators");

        var aws = Assert.IsType<ExecutableResource>(Assert.Single(builder.Resources, r => r.Name == "aws-emulator"));
        var dynamoDb = Assert.IsType<ExecutableResource>(Assert.Single(builder.Resources, r => r.Name == "dynamodb-emulator"));
        Assert.Equal(4566, Assert.Single(aws.Annotations.OfType<EndpointAnnotation>()).Port);
        Assert.Equal(8000, Assert.Single(dynamoDb.Annotations.OfType<EndpointAnnotation>()).Port);

        foreach (var name in Services)
        {
            var environment = await EnvironmentOf(builder.Resources.Single(r => r.Name == name));
            Assert.Equal("http://127.0.0.1:{aws-emulator.bindings.http.port}", environment["Aws__ServiceUrl"]);
            Assert.Equal("http://127.0.0.1:{dynamodb-emulator.bindings.http.port}", environment["Aws__ServiceUrls__DynamoDB"]);
        }
    }

    [Fact]
    public async Task None_mode_declares_no_emulator_and_hands_services_only_the_region()
    {
        await using var builder = await AppHostIn("none");

        Assert.DoesNotContain(builder.Resources, r => r.Name is "localstack" or "aws-emulator" or "dynamodb-emulator");
        var environment = await EnvironmentOf(builder.Resources.Single(r => r.Name == "compute"));
        Assert.Equal("us-east-1", environment["Aws__Region"]);
        Assert.False(environment.ContainsKey("Aws__ServiceUrl"));
        Assert.False(environment.ContainsKey("AWS_ACCESS_KEY_ID")); // real credentials come from the default chain
    }

    [Fact]
    public async Task Publishing_declares_no_local_aws_and_asks_no_container_engine_even_in_auto_mode()
    {
        // `true` answers every engine command, a pull of LocalStack's image included: asked, it would choose LocalStack.
        await using var builder = await AppHostIn("auto", "--ASPIRE_CONTAINER_RUNTIME=true", "--operation", "publish");

        Assert.True(builder.ExecutionContext.IsPublishMode);
        Assert.DoesNotContain(builder.Resources, r => r.Name is "localstack" or "aws-emulator" or "dynamodb-emulator");
    }

    [Fact]
    public async Task The_kpi_dashboard_is_on_port_15100_after_the_provisioner_with_a_health_check_and_the_pipeline_commands_are_where_people_reach_for_them()
    {
        await using var builder = await AppHostIn("emulators");

        var dashboard = builder.Resources.Single(r => r.Name == "dashboard");
        Assert.Equal(15100, dashboard.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http").Port);
        Assert.Single(dashboard.Annotations.OfType<HealthCheckAnnotation>());
        Assert.Contains(dashboard.Annotations.OfType<WaitAnnotation>(), w => w.Resource.Name == "provisioner" && w.WaitType == WaitType.WaitForCompletion);

        string[] Commands(string resource) =>
            builder.Resources.Single(r => r.Name == resource).Annotations.OfType<ResourceCommandAnnotation>().Select(c => c.DisplayName).ToArray();
        Assert.Contains("Submit sample batch", Commands("validate"));
        Assert.Contains("Submit sample batch", Commands("dashboard"));
        foreach (var worker in new[] { "validate", "transform", "compute", "notifier" })
        {
            Assert.Contains("Redrive dead letters", Commands(worker));
        }
    }

    [Fact]
    public async Task An_unknown_mode_is_refused_with_the_list_of_valid_ones()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => AppHostIn("docker"));

        Assert.Contains("auto, localstack, emulators, none", (error.InnerException ?? error).Message);
    }

    /// <summary>The environment as the publish manifest would write it: endpoint references stay symbolic.</summary>
    private static async Task<Dictionary<string, string>> EnvironmentOf(IResource resource)
    {
        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), resource);
        Assert.True(resource.TryGetEnvironmentVariables(out var callbacks));
        foreach (var callback in callbacks)
        {
            await callback.Callback(context);
        }
        return context.EnvironmentVariables.ToDictionary(
            e => e.Key,
            e => e.Value switch
            {
                string text => text,
                IManifestExpressionProvider expression => expression.ValueExpression,
                var other => other.ToString() ?? string.Empty,
            });
    }
}
