using System.CommandLine;
using System.Diagnostics;

namespace Deploy.Cli;

/// <summary>
/// <c>dotnet run --project Deploy -- synth|deploy|destroy [options] [key=value ...]</c> (docs/deploy.md). The settings are
/// <see cref="DeploySettings"/>' keys; the options say where the output goes, which AWS account and region, and how.
/// </summary>
public static class DeployCommandLine
{
    private static readonly Argument<string[]> Settings = new("settings")
    {
        Description = $"key=value settings: {string.Join(", ", DeploySettings.KeyNames)} (docs/deploy.md)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private static readonly Option<string?> Images = new("--images")
    {
        Description = "A folder with the image archives already built (pipeline-<service>.tar): nothing is built",
    };

    private static readonly Option<string?> Profile = new("--profile")
    {
        Description = "The AWS profile to deploy with (else AWS_PROFILE or the default chain)",
    };

    private static readonly Option<string?> Region = new("--region") { Description = "The AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's)" };
    private static readonly Option<bool> DryRun = new("--dry-run")
    {
        Description = "Print every step and its exact commands; run the checks (reported, not fatal), build the images and write the template; " +
            "touch nothing in AWS",
    };

    public static RootCommand Create() => new("Synthesizes, deploys and deletes the pipeline's CloudFormation stack (docs/deploy.md).")
    {
        Synth(),
        Deploy(),
        Destroy(),
    };

    /// <summary>Runs the command line; a usage error is one line on stderr and exit code 64.</summary>
    public static Task<int> InvokeAsync(string[] args)
    {
        var parsed = Create().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            Console.Error.WriteLine($"deploy: {parsed.Errors[0].Message} (see --help)");
            return Task.FromResult(ExitCodes.Usage);
        }
        return parsed.InvokeAsync();
    }

    private static Command Synth()
    {
        var output = new Option<string>("--out") { Description = "The cloud assembly's folder", DefaultValueFactory = _ => DeployCommand.DefaultOutput };
        var command = new Command("synth", "Write the stack's CloudFormation template (and the CDK cloud assembly) offline") { output, Images, Settings };
        command.SetAction(result => WithSettings(result, "synth", settings =>
        {
            var watch = Stopwatch.StartNew();
            var template = DeployCommand.Synthesize(settings with { ImageArchives = result.GetValue(Images) }, result.GetValue(output)!);
            Console.WriteLine($"{template} ({watch.Elapsed.TotalSeconds:0.0} s)");
            return Task.FromResult(ExitCodes.Succeeded);
        }));
        return command;
    }

    private static Command Deploy()
    {
        var output = OutputOption();
        var baseImage = new Option<string?>("--base-image")
        {
            Description = "The images' base instead of mcr.microsoft.com/dotnet/runtime-deps (ContainerBaseImage), where that registry cannot be reached",
        };
        var command = new Command("deploy", "Check, build the images, deploy the stack with them, wait for it and print where things are")
        {
            output, DryRun, Images, baseImage, Profile, Region, Settings,
        };
        command.SetAction((result, cancellationToken) => WithSettings(result, "deploy", settings =>
            new DeployPlan(Request(result, output, settings) with { Images = FullPath(result.GetValue(Images)), BaseImage = result.GetValue(baseImage) })
                .RunAsync(Console.Out, cancellationToken)));
        return command;
    }

    private static Command Destroy()
    {
        var output = OutputOption();
        var yes = new Option<bool>("--yes") { Description = "Do not ask; delete the stack" };
        var command = new Command("destroy", "Delete the stack (the data is kept by design: it says what is left) after asking, unless --yes")
        {
            output, DryRun, yes, Profile, Region, Settings,
        };
        command.SetAction((result, cancellationToken) => WithSettings(result, "destroy", settings =>
            new DestroyPlan(Request(result, output, settings) with { Yes = result.GetValue(yes) }, Console.In, interactive: !Console.IsInputRedirected)
                .RunAsync(Console.Out, cancellationToken)));
        return command;
    }

    private static Option<string> OutputOption() => new("--out")
    {
        Description = "The output folder: plan.txt, images/, cdk.out/ (the template), outputs.json",
        DefaultValueFactory = _ => Path.Combine("artifacts", "deploy"),
    };

    private static DeploymentRequest Request(ParseResult result, Option<string> output, DeploySettings settings) =>
        new(new Workspace(Workspace.FindRepositoryRoot(), result.GetValue(output)!), settings, result.GetValue(Settings) ?? [])
        {
            DryRun = result.GetValue(DryRun),
            Target = new AwsTarget(result.GetValue(Profile), result.GetValue(Region)),
        };

    private static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path);

    /// <summary>Parses the settings; a bad one is one line on stderr and exit code 64.</summary>
    private static Task<int> WithSettings(ParseResult result, string command, Func<DeploySettings, Task<int>> run)
    {
        DeploySettings settings;
        try
        {
            settings = DeploySettings.Parse(result.GetValue(Settings) ?? []);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{command}: {e.Message}");
            return Task.FromResult(ExitCodes.Usage);
        }
        return run(settings);
    }
}
