using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Topology.Provisioning;

namespace Pipeline.Topology;

public static class TopologyExtensions
{
    /// <summary>Configuration key of the bucket name (S3 names are global, so each deployment may pick its own).</summary>
    public const string BucketNameKey = "Pipeline:BucketName";

    /// <summary>
    /// Configuration key of the environment, the prefix of every name (<see cref="PipelineTopology.Environment"/>): the
    /// stack's name in AWS (its task definitions set it), <c>pipeline</c> when not set.
    /// </summary>
    public const string EnvironmentKey = "Pipeline:Environment";

    /// <summary>Registers the <see cref="PipelineTopology"/> of this deployment (and its provisioner), and returns it.</summary>
    public static PipelineTopology AddPipelineTopology(this IHostApplicationBuilder builder)
    {
        var topology = new PipelineTopology(builder.Configuration[BucketNameKey], builder.Configuration[EnvironmentKey]);
        builder.Services.AddSingleton(topology);
        builder.Services.AddSingleton<TopologyProvisioner>();
        return topology;
    }
}
