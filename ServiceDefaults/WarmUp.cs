using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>One piece of work a service does once at start, before it reports ready: code its first message would otherwise compile.</summary>
public sealed record WarmUpStep(string Name, Func<IServiceProvider, CancellationToken, Task> RunAsync);

/// <summary>
/// Warm-up at start-up: the service runs its steps (the engine on a tiny batch, the AWS calls its first batch makes) in
/// the background as soon as it starts, and its readiness check (<c>/health</c>, what the AppHost waits for) says
/// unhealthy until they are done, so that "healthy" means the first batch costs what any batch costs. A failed step is
/// logged and does not keep the service from becoming ready (it only stays slower on its first batch). Warming up is
/// no fault: until it is over, <c>/health</c> answers "not ready" without running its checks, so that no probe logs an
/// error and none adds AWS calls to a start that is busy enough.
/// </summary>
public static class WarmUpExtensions
{
    /// <summary>The readiness check's name; not tagged <c>live</c>.</summary>
    public const string HealthCheckName = "warm-up";

    /// <summary>The assemblies whose code is compiled ahead by the first step: the pipeline's own.</summary>
    public static readonly string[] OwnAssemblies = ["Services.", "Pipeline.", "EventBus", "Aws.Sns", "ServiceDefaults"];

    public static IServiceCollection AddWarmUp(this IServiceCollection services, string name, Func<IServiceProvider, CancellationToken, Task> step)
    {
        if (!services.Any(s => s.ServiceType == typeof(WarmUpService)))
        {
            services.AddSingleton<WarmUpService>();
            services.AddHostedService(sp => sp.GetRequiredService<WarmUpService>());
            services.AddHealthChecks().AddCheck<WarmUpHealthCheck>(HealthCheckName);
            services.AddSingleton(new WarmUpStep("compile the pipeline's code", (_, ct) => Task.Run(() => JitWarmUp.PrepareAssemblies(OwnAssemblies, ct), ct)));
        }
        services.AddSingleton(new WarmUpStep(name, step));
        return services;
    }
}

internal sealed partial class WarmUpService(IEnumerable<WarmUpStep> steps, IServiceProvider services, ILogger<WarmUpService> logger) : BackgroundService
{
    private readonly TaskCompletionSource<TimeSpan> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How long the warm-up took, once it is over.</summary>
    public Task<TimeSpan> Done => _done.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var total = Stopwatch.StartNew();
        try
        {
            // No trace: the warm-up's calls are nobody's batch.
            Activity.Current = null;
            foreach (var step in steps)
            {
                var took = Stopwatch.StartNew();
                try
                {
                    await step.RunAsync(services, stoppingToken).ConfigureAwait(false);
                    LogStep(step.Name, took.ElapsedMilliseconds);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    LogStepFailed(e, step.Name, took.ElapsedMilliseconds);
                }
            }
        }
        finally
        {
            LogDone(total.ElapsedMilliseconds);
            _done.TrySetResult(total.Elapsed);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Warm-up: {Step} in {Milliseconds} ms")]
    private partial void LogStep(string step, long milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Warm-up: {Step} failed after {Milliseconds} ms; the first batch will pay for it")]
    private partial void LogStepFailed(Exception error, string step, long milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Warmed up in {Milliseconds} ms: ready")]
    private partial void LogDone(long milliseconds);
}

/// <summary>Unhealthy while the warm-up runs, healthy once it is over.</summary>
internal sealed class WarmUpHealthCheck(WarmUpService warmUp) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(warmUp.Done.IsCompletedSuccessfully
            ? HealthCheckResult.Healthy($"Warmed up in {warmUp.Done.Result.TotalMilliseconds:F0} ms")
            : HealthCheckResult.Unhealthy("Warming up"));
}

/// <summary>
/// Compiles the methods of the service's own assemblies ahead of their first call
/// (<see cref="System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(RuntimeMethodHandle)"/>): the code paths a
/// warm-up cannot run without writing data (a KPI fold, a run's state changes) are then compiled before the first batch
/// too. Generic code is compiled where the warm-up's runs instantiate it.
/// </summary>
public static class JitWarmUp
{
    /// <summary>The assemblies whose names start with one of <paramref name="prefixes"/>, from the entry assembly's references down.</summary>
    public static int PrepareAssemblies(IReadOnlyCollection<string> prefixes, CancellationToken cancellationToken)
    {
        var entry = System.Reflection.Assembly.GetEntryAssembly();
        if (entry is null)
        {
            return 0;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<System.Reflection.Assembly>([entry]);
        var methods = 0;
        while (pending.TryDequeue(out var assembly))
        {
            if (!seen.Add(assembly.GetName().Name!))
            {
                continue;
            }
            methods += Prepare(assembly, cancellationToken);
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (reference.Name is { } name && !seen.Contains(name) && prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))
                    && TryLoad(reference) is { } referenced)
                {
                    pending.Enqueue(referenced);
                }
            }
        }
        return methods;
    }

    private static System.Reflection.Assembly? TryLoad(System.Reflection.AssemblyName name)
    {
        try
        {
            return System.Reflection.Assembly.Load(name);
        }
        catch (Exception e) when (e is IOException or BadImageFormatException)
        {
            return null; // referenced but not deployed (never called): nothing to compile
        }
    }

    private static int Prepare(System.Reflection.Assembly assembly, CancellationToken cancellationToken)
    {
        const System.Reflection.BindingFlags all = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic
            | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly;
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (System.Reflection.ReflectionTypeLoadException e)
        {
            types = [.. e.Types.OfType<Type>()];
        }
        var prepared = 0;
        foreach (var type in types.Where(t => !t.ContainsGenericParameters && !t.IsInterface))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var method in type.GetMethods(all).Cast<System.Reflection.MethodBase>().Concat(type.GetConstructors(all)))
            {
                if (method.IsAbstract || method.ContainsGenericParameters
                    || (method.MethodImplementationFlags & System.Reflection.MethodImplAttributes.InternalCall) != 0)
                {
                    continue;
                }
                try
                {
                    System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(method.MethodHandle);
                    prepared++;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A method that cannot be compiled ahead (a P/Invoke, a missing optional dependency) is compiled on its first call.
                }
            }
        }
        return prepared;
    }
}
