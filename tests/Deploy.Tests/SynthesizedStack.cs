using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using Deploy;

namespace Deploy.Tests;

/// <summary>
/// Every test that touches jsii shares one synthesis, one after the other: jsii is not thread-safe. jsii unpacks its
/// runtime into the temporary folder, so the collection gets its own and deletes it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CdkCollection : ICollectionFixture<SynthesizedStack>
{
    public const string Name = "CDK (jsii is single-threaded)";
}

public sealed class SynthesizedStack : IDisposable
{
    /// <summary>Settings other than the defaults, so that the tests see them arrive in the template.</summary>
    public static readonly string[] Arguments = ["alertEmails=ops@example.com,data@example.com", "minTasks=0", "maxTasks=3", "backlogPerTask=2", "logRetentionDays=14"];

    private readonly string _temp = Directory.CreateTempSubdirectory("deploy-tests-jsii-").FullName;
    private readonly string? _previousTemp = Environment.GetEnvironmentVariable("TMPDIR");

    public SynthesizedStack()
    {
        Environment.SetEnvironmentVariable("TMPDIR", _temp);
        Settings = DeploySettings.Parse(Arguments);
        App = DeployCommand.CreateApp(Path.Combine(_temp, "cdk.out"));
        Stack = new PipelineStack(App, Settings);
        Template = Template.FromStack(Stack);
        Json = JsonNode.Parse(JsonSerializer.Serialize(Template.ToJSON()))!.AsObject();
    }

    public DeploySettings Settings { get; }

    public Amazon.CDK.App App { get; }

    public PipelineStack Stack { get; }

    public Template Template { get; }

    /// <summary>The template as JSON, for the checks the assertion library has no words for.</summary>
    public JsonObject Json { get; }

    public string TempFolder => _temp;

    public IEnumerable<(string Id, JsonObject Resource)> Resources(string type) =>
        Json["Resources"]!.AsObject().Where(r => (string?)r.Value!["Type"] == type).Select(r => (r.Key, r.Value!.AsObject()));

    public JsonObject Resource(string id) => Json["Resources"]![id]!.AsObject();

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("TMPDIR", _previousTemp);
        try
        {
            Directory.Delete(_temp, recursive: true);
        }
        catch (IOException)
        {
            // jsii's node process may still hold a file; the folder is ours alone and small next to the run.
        }
    }
}
