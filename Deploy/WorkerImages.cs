using Amazon.CDK;
using Amazon.CDK.AWS.ECR;
using Amazon.CDK.AWS.ECS;
using Constructs;

namespace Deploy;

/// <summary>
/// Where the service images come from. With <see cref="DeploySettings.ImageArchives"/> (what <c>deploy</c> does): the
/// archives the SDK wrote (<c>pipeline-&lt;service&gt;.tar</c>) become CDK image assets, which the CDK CLI loads into
/// the container engine and pushes to the CDK bootstrap repository, tagged by their content's hash, so nobody creates a
/// repository by hand and no tag is pushed twice. Without it (plain <c>synth</c>, the template tests): parameters, so
/// synthesis needs no image: one tag for the release and an ECR repository per service (<c>pipeline-&lt;service&gt;</c>
/// by default). The OpenTelemetry collector's image is a parameter in both.
/// </summary>
public sealed class WorkerImages
{
    /// <summary>AWS Distro for OpenTelemetry: receives OTLP from the service, exports traces to X-Ray and metrics and logs to CloudWatch.</summary>
    public const string DefaultCollectorImage = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3";

    private readonly Construct _scope;
    private readonly string? _archives;
    private readonly CfnParameter _collector;
    private CfnParameter? _tag;

    public WorkerImages(Construct scope, string? archives)
    {
        _scope = scope;
        _archives = archives;
        _collector = new CfnParameter(scope, "CollectorImage", new CfnParameterProps
        {
            Type = "String",
            Default = DefaultCollectorImage,
            Description = "The OpenTelemetry collector image run beside every service",
        });
    }

    /// <summary>The image name of a service, as its project publishes it.</summary>
    public static string ImageName(string service) => $"pipeline-{service}";

    /// <summary>The file the SDK writes a service's image to (<c>-p:ContainerArchiveOutputPath</c>) and synthesis reads it from.</summary>
    public static string ArchiveFileName(string service) => $"{ImageName(service)}.tar";

    public ContainerImage Service(string service) => _archives is null ? FromParameters(service) : FromArchive(service);

    public ContainerImage Collector => ContainerImage.FromRegistry(_collector.ValueAsString);

    /// <summary>
    /// The archive as an image asset: copied into the cloud assembly under its content's hash, loaded by the CDK CLI into
    /// the container engine, tagged with the hash and pushed to the bootstrap repository (see <see cref="ImageAssetManifest"/>
    /// for the engine it loads with).
    /// </summary>
    private ContainerImage FromArchive(string service)
    {
        var archive = Path.GetFullPath(Path.Combine(_archives!, ArchiveFileName(service)));
        return File.Exists(archive)
            ? ContainerImage.FromTarball(archive)
            : throw new ArgumentException($"no image archive for {service} at {archive} (the deploy command builds it; see docs/deploy.md)");
    }

    private ContainerImage FromParameters(string service)
    {
        _tag ??= new CfnParameter(_scope, "ImageTag", new CfnParameterProps
        {
            Type = "String",
            Description = "The tag of the service images in ECR (the version and commit they were built from, such as 1.0.0-abc1234)",
            MinLength = 1,
        });
        var repository = new CfnParameter(_scope, PipelineStack.Id("Repository", service), new CfnParameterProps
        {
            Type = "String",
            Default = ImageName(service),
            Description = $"The ECR repository (in this account and region) of the {service} image",
        });
        return ContainerImage.FromEcrRepository(
            Repository.FromRepositoryName(_scope, PipelineStack.Id("ImageRepository", service), repository.ValueAsString), _tag.ValueAsString);
    }
}
