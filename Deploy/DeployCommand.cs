using Amazon.CDK;

namespace Deploy;

/// <summary>Synthesis of the stack: the CloudFormation template (and the CDK cloud assembly), offline and the same on every run.</summary>
public static class DeployCommand
{
    public const string DefaultOutput = "cdk.out";

    /// <summary>Synthesizes the stack into <paramref name="output"/> and returns the template's path.</summary>
    public static string Synthesize(DeploySettings settings, string output)
    {
        var app = CreateApp(output);
        var stack = new PipelineStack(app, settings);
        app.Synth();
        if (settings.ImageArchives is not null)
        {
            ImageAssetManifest.UseCdkDockerEngine(Path.Combine(output, $"{stack.ArtifactId}.assets.json"));
        }
        return Path.Combine(output, stack.TemplateFile);
    }

    /// <summary>An app whose output is the same on every run: no version report, no construct paths in the template.</summary>
    public static App CreateApp(string? output = null)
    {
        // jsii runs `node`; Node 20 prints an end-of-life banner on every start otherwise.
        System.Environment.SetEnvironmentVariable("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20");
        return new App(new AppProps
        {
            Outdir = output is null ? null : Path.GetFullPath(output),
            AnalyticsReporting = false,
            Context = new Dictionary<string, object> { ["aws:cdk:enable-path-metadata"] = false },
        });
    }
}
