namespace Pipeline.Testing;

/// <summary>
/// The real AppHost in emulator mode (<see cref="EmulatorApp"/>) whose projects export their spans to <see cref="Traces"/>,
/// as they would to the Aspire dashboard.
/// </summary>
public class TracedEmulatorApp : EmulatorApp
{
    /// <summary>Every span the projects and the command line exported since the app started.</summary>
    public OtlpTraceReceiver Traces { get; } = OtlpTraceReceiver.Start();

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            var traced = builder.CreateResourceBuilder(project);
            foreach (var (name, value) in Traces.ExporterEnvironment)
            {
                traced.WithEnvironment(name, value);
            }
        }
    }

    protected override ValueTask OnDisposedAsync() => Traces.DisposeAsync();
}
