using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using Pipeline.Topology;

namespace Deploy.Tests;

/// <summary>The stack synthesized with one set of settings: the CDK assertions' template, its JSON, and the file the linters read.</summary>
public class StackTemplate
{
    /// <param name="output">The cloud assembly's folder; the template file is written there too.</param>
    public StackTemplate(string output, IReadOnlyList<string> arguments)
    {
        Arguments = arguments;
        Settings = DeploySettings.Parse(arguments);
        App = DeployCommand.CreateApp(output);
        Stack = new PipelineStack(App, Settings);
        Template = Template.FromStack(Stack);
        var json = JsonSerializer.Serialize(Template.ToJSON());
        Json = JsonNode.Parse(json)!.AsObject();
        Directory.CreateDirectory(output);
        TemplateFile = Path.Combine(output, Stack.TemplateFile);
        File.WriteAllText(TemplateFile, json);
    }

    /// <summary>The <c>key=value</c> settings as given to <c>synth</c>.</summary>
    public IReadOnlyList<string> Arguments { get; }

    public DeploySettings Settings { get; }

    public Amazon.CDK.App App { get; }

    public PipelineStack Stack { get; }

    public Template Template { get; }

    /// <summary>The template as JSON, for the checks the assertion library has no words for.</summary>
    public JsonObject Json { get; }

    /// <summary>
    /// The topology as the template names its resources: the stack's name as the environment, and the bucket's default
    /// name with the account and region written as <see cref="TemplateReader.Render"/> writes them.
    /// </summary>
    public PipelineTopology Topology =>
        new(Settings.BucketName ?? PipelineTopology.AccountBucketName(Settings.StackName, "{AWS::AccountId}", "{AWS::Region}"), Settings.StackName);

    /// <summary>What synthesis warned or erred about (nothing, for every configuration the docs offer).</summary>
    public IReadOnlyList<string> Messages =>
        _messages ??= App.Synth().GetStackByName(Stack.StackName).Messages.Select(m => $"{m.Level}: {m.Entry.Data}").ToList();

    private IReadOnlyList<string>? _messages;

    /// <summary>The template on disk (for cfn-lint and cfn-guard).</summary>
    public string TemplateFile { get; }

    public IEnumerable<(string Id, JsonObject Resource)> Resources(string type) =>
        Json["Resources"]!.AsObject().Where(r => (string?)r.Value!["Type"] == type).Select(r => (r.Key, r.Value!.AsObject()));

    public JsonObject Resource(string id) => Json["Resources"]![id]!.AsObject();

    /// <summary>The logical id of a construct's CloudFormation resource (such as <see cref="PipelineStack.Bucket"/>'s).</summary>
    public string LogicalId(Constructs.IConstruct construct) => Stack.GetLogicalId((Amazon.CDK.CfnElement)construct.Node.DefaultChild!);

    /// <summary>The pipeline's bucket (the other bucket holds the analysts' Athena results).</summary>
    public (string Id, JsonObject Resource) DataBucket => Resources("AWS::S3::Bucket").Single(b => b.Id == LogicalId(Stack.Bucket));

    /// <summary>The logical ids a resource waits for (its <c>DependsOn</c>).</summary>
    public IReadOnlyList<string> DependsOn(string id) =>
        Resource(id)["DependsOn"] is { } dependsOn ? TemplateReader.OneOrMany(dependsOn).Select(d => (string)d!).ToList() : [];

    public override string ToString() => Arguments.Count == 0 ? "the defaults" : string.Join(' ', Arguments);
}
