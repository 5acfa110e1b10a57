namespace AppHost.Tests;

/// <summary>The test classes that share one running AppHost (they run one after the other).</summary>
[CollectionDefinition(Name)]
public sealed class EmulatorAppCollection : ICollectionFixture<EmulatorAppFixture>
{
    public const string Name = "AppHost on the emulators";
}
