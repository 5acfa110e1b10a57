using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Deploy;

/// <summary>
/// CDK 2.160's tarball image assets load their archive with a literal <c>docker load</c>, while the CDK CLI runs every
/// other container command (tag, login, push) with the engine <c>CDK_DOCKER</c> names: where Podman is the engine the
/// load would fail. After synthesis the load commands in the asset manifest are rewritten to use the same engine
/// (<c>CDK_DOCKER</c>, else docker), and to read the image's name from both engines' "Loaded image: " line (Docker 27.4+
/// may also say "Loaded image ID: "). A rewrite of the output rather than an asset of our own: the synthesizer's
/// <c>addDockerImageAsset</c> cannot be called from C# under jsii (its stack binding is not visible there).
/// </summary>
public static class ImageAssetManifest
{
    private const string DockerLoad = "docker load -i ";

    public static void UseCdkDockerEngine(string assetManifest)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(assetManifest))!.AsObject();
        if (manifest["dockerImages"] is not JsonObject images)
        {
            return;
        }
        foreach (var (_, image) in images)
        {
            if (image?["source"]?["executable"] is JsonArray { Count: 3 } executable
                && ((string?)executable[2])?.StartsWith(DockerLoad, StringComparison.Ordinal) == true)
            {
                var archive = ((string)executable[2]!)[DockerLoad.Length..].Split(' ')[0];
                executable[2] = LoadCommand(archive);
            }
        }
        File.WriteAllText(assetManifest,
            manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    /// <summary>The shell command that loads <paramref name="archive"/> and prints the loaded image's name, which the CLI then tags and pushes.</summary>
    public static string LoadCommand(string archive) => $"\"${{CDK_DOCKER:-docker}}\" load -i {archive} | tail -n 1 | sed 's/^Loaded image[^:]*: //'";
}
