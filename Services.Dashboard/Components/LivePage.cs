using Microsoft.AspNetCore.Components;
using Pipeline.Contracts.Alerts;
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
    /// <summary>Where alerts arrive (and the last one is kept).</summary>
    [Inject]
    protected PipelineChanges Changes { get; set; } = null!;

    [Inject]
    private PersistentComponentState State { get; set; } = null!;

    [Inject]
    private PrerenderedViews Prerendered { get; set; } = null!;

    private readonly CancellationTokenSource _disposed = new();
    private PersistingComponentStateSubscription _persisting;
    private bool _restored;
    private int _loads;

    /// <summary>The page's data; null before the first read, or when there is none to show.</summary>
    protected TView? View { get; private set; }

    /// <summary>Reads the page's data (on parameter changes, and after each alert).</summary>
    protected abstract Task<TView?> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Called when a read's answer becomes the page's <see cref="View"/> (the newest read's only).</summary>
    protected virtual void OnViewLoaded(TView? view)
    {
    }

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

    /// <summary>
    /// Reads the page's data. Reads can overlap (new parameters, an alert, a timer): only the newest one's answer is
    /// shown, so a slow older read never overwrites what was asked for last.
    /// </summary>
    protected async Task ReloadAsync()
    {
        var load = ++_loads; // on the renderer's thread, like every caller
        try
        {
            var view = await LoadAsync(_disposed.Token);
            if (load == _loads)
            {
                (View, LoadError, Loaded) = (view, null, true);
                OnViewLoaded(view);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (load == _loads)
            {
                LoadError = e.Message;
            }
        }
    }

    /// <summary>Reads the page's data again and pushes the new render (from outside the renderer: alerts, timers).</summary>
    protected Task ReloadAndRenderAsync() => InvokeAsync(async () =>
    {
        await ReloadAsync();
        StateHasChanged();
    });

    private void OnAlert(Alert alert) => _ = ReloadAndRenderAsync();

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
