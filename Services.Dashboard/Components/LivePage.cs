using Pipeline.Contracts.Alerts;
using Microsoft.AspNetCore.Components;
using Services.Dashboard.Live;

namespace Services.Dashboard.Components;

/// <summary>
/// A page that is drawn with its data on the server first (prerendered, so it shows before its circuit is up), handed
/// to its interactive self without reading the data again, and read again whenever the pipeline changes: each alert on
/// the dashboard's queue (a batch finished) reloads it and Blazor pushes the new render over the circuit.
/// </summary>
/// <typeparam name="TView">What the page shows, as read; handed from the prerender to the interactive render (<see cref="PrerenderedViews"/>).</typeparam>
public abstract class LivePage<TView> : ComponentBase, IDisposable where TView : class
{
    [Inject]
    private PipelineChanges Changes { get; set; } = null!;

    [Inject]
    private PersistentComponentState State { get; set; } = null!;

    [Inject]
    private PrerenderedViews Prerendered { get; set; } = null!;

    private readonly CancellationTokenSource _disposed = new();
    private PersistingComponentStateSubscription _persisting;
    private bool _restored;

    /// <summary>The page's data; null before the first read, or when there is none to show.</summary>
    protected TView? View { get; private set; }

    /// <summary>Reads the page's data (on parameter changes, and after each alert).</summary>
    protected abstract Task<TView?> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Why the last read failed (AWS unreachable, say), shown instead of the data.</summary>
    protected string? LoadError { get; private set; }

    protected bool Loaded { get; private set; }

    private string StateKey => GetType().FullName!;

    protected override void OnInitialized()
    {
        Changes.AlertReceived += OnAlert;
        _persisting = State.RegisterOnPersisting(() =>
        {
            if (Loaded && View is not null)
            {
                State.PersistAsJson(StateKey, Prerendered.Keep(View));
            }
            return Task.CompletedTask;
        });
        if (State.TryTakeFromJson<string>(StateKey, out var key) && key is not null && Prerendered.TryTake<TView>(key, out var view))
        {
            (View, Loaded, _restored) = (view, true, true);
        }
    }

    protected override Task OnParametersSetAsync()
    {
        if (_restored)
        {
            _restored = false; // the prerender read it for these very parameters
            return Task.CompletedTask;
        }
        return ReloadAsync();
    }

    protected async Task ReloadAsync()
    {
        try
        {
            View = await LoadAsync(_disposed.Token);
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
            _persisting.Dispose();
            _disposed.Cancel();
        }
    }
}
