using Amazon.CDK;
using Amazon.CDK.AWS.ECR;
using Amazon.CDK.AWS.ECS;
using Constructs;

namespace Deploy;

/// <summary>
/// The images come in as parameters, so synthesis needs none: one tag for the release, an ECR repository per service
/// (named like the image, <c>pipeline-&lt;service&gt;</c>, by default), and the OpenTelemetry collector's image.
/// </summary>
public sealed class WorkerImages(Construct scope)
{
    /// <summary>AWS Distro for OpenTelemetry: receives OTLP from the service, exports traces to X-Ray and metrics and logs to CloudWatch.</summary>
    public const string DefaultCollectorImage = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3";

    private readonly CfnParameter _tag = new(scope, "ImageTag", new CfnParameterProps
    {
        Type = "String",
        Description = "The tag of the service images in ECR (the version and commit they were built from, such as 1.0.0-abc1234)",
        MinLength = 1,
    });

    private readonly CfnParameter _collector = new(scope, "CollectorImage", new CfnParameterProps
    {
        Type = "String",
        Default = DefaultCollectorImage,
        Description = "The OpenTelemetry collector image run beside every service",
    });

    /// <summary>The image name of a service, as its project publishes it.</summary>
    public static string ImageName(string service) => $"pipeline-{service}";

    public ContainerImage Service(string service)
    {
        var repository = new CfnParameter(scope, PipelineStack.Id("Repository", service), new CfnParameterProps
        {
            Type = "String",
            Default = ImageName(service),
            Description = $"The ECR repository (in this account and region) of the {service} image",
        });
        return ContainerImage.FromEcrRepository(
            Repository.FromRepositoryName(scope, PipelineStack.Id("ImageRepository", service), repository.ValueAsString), _tag.ValueAsString);
    }

    public ContainerImage Collector => ContainerImage.FromRegistry(_collector.ValueAsString);
}
