using Microsoft.Extensions.Caching.Memory;

namespace Services.Dashboard.Components;

/// <summary>
/// What a page read while it was prerendered, kept in this process for its interactive render a moment later, so that
/// the data is read once and the page never shows "Loading…" in between. Only a random key travels in the page (a year
/// of category rows would be a megabyte, more than a circuit's messages may carry); a key not found here (the view
/// expired, or another task answers) just means reading again.
/// </summary>
public sealed class PrerenderedViews(IMemoryCache cache)
{
    private static readonly TimeSpan KeptFor = TimeSpan.FromSeconds(30);

    public string Keep(object view)
    {
        var key = Guid.NewGuid().ToString("N");
        cache.Set(Key(key), view, KeptFor);
        return key;
    }

    public bool TryTake<TView>(string key, out TView? view) where TView : class
    {
        view = cache.Get(Key(key)) as TView;
        cache.Remove(Key(key));
        return view is not null;
    }

    private static string Key(string key) => "prerendered:" + key;
}
