using Microsoft.AspNetCore.Components;
using Pipeline.Contracts;
using Services.Dashboard.Live;

namespace Services.Dashboard.Components;

/// <summary>
/// A page that reads its data again when the pipeline changes: each alert on the dashboard's queue (a batch finished)
/// reloads it and Blazor pushes the new render over the circuit, without the reader doing anything.
/// </summary>
public abstract class LivePage : ComponentBase, IDisposable
{
    [Inject]
    private PipelineChanges Changes { get; set; } = null!;

    /// <summary>Reads the page's data (first, on parameter changes, and after each alert).</summary>
    protected abstract Task LoadAsync(CancellationToken cancellationToken);

    /// <summary>Why the last read failed (AWS unreachable, say), shown instead of the data.</summary>
    protected string? LoadError { get; private set; }

    protected bool Loaded { get; private set; }

    private readonly CancellationTokenSource _disposed = new();

    protected override void OnInitialized() => Changes.AlertReceived += OnAlert;

    protected override Task OnParametersSetAsync() => ReloadAsync();

    protected async Task ReloadAsync()
    {
        try
        {
            await LoadAsync(_disposed.Token);
            LoadError = null;
            Loaded = true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LoadError = e.Message;
        }
    }

    private void OnAlert(Alert alert) => _ = InvokeAsync(async () =>
    {
        await ReloadAsync();
        StateHasChanged();
    });

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Changes.AlertReceived -= OnAlert;
            _disposed.Cancel();
        }
    }
}
