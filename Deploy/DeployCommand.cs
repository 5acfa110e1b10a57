using System.Diagnostics;
using Amazon.CDK;

namespace Deploy;

/// <summary><c>synth [--out DIR] [key=value ...]</c>: writes the stack's CloudFormation template (and the CDK cloud assembly) offline.</summary>
public static class DeployCommand
{
    public const string DefaultOutput = "cdk.out";

    public static int Run(string[] args)
    {
        if (args is not ["synth", .. var rest])
        {
            Console.Error.WriteLine($"usage: dotnet run --project Deploy -- synth [--out DIR] [key=value ...]\n  keys: {string.Join(", ", DeploySettings.KeyNames)}");
            return 64;
        }

        var output = DefaultOutput;
        if (rest is ["--out", var folder, .. var afterOut])
        {
            output = folder;
            rest = afterOut;
        }

        DeploySettings settings;
        try
        {
            settings = DeploySettings.Parse(rest);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"synth: {e.Message}");
            return 64;
        }

        var watch = Stopwatch.StartNew();
        var template = Synthesize(settings, output);
        Console.WriteLine($"{template} ({watch.Elapsed.TotalSeconds:0.0} s)");
        return 0;
    }

    /// <summary>Synthesizes the stack into <paramref name="output"/> and returns the template's path.</summary>
    public static string Synthesize(DeploySettings settings, string output)
    {
        var app = CreateApp(output);
        var stack = new PipelineStack(app, settings);
        app.Synth();
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
