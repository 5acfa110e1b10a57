using Microsoft.Playwright;

namespace Pipeline.Testing;

/// <summary>
/// Debian's Chromium driven by Playwright (which cannot download its own browsers here): one browser for all the
/// browser tests, started headless with the flags that keep it off the network.
/// </summary>
public sealed class BrowserSession : IAsyncDisposable
{
    /// <summary>Where Debian's package puts it (<c>apt-get install chromium</c>, as .ci/run does).</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>How long an assertion on a page waits for what it expects.</summary>
    private static readonly TimeSpan ExpectTimeout = TimeSpan.FromSeconds(30);

    private readonly IPlaywright _playwright;

    private BrowserSession(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    /// <summary>Why the browser tests cannot run here, or null.</summary>
    public static string? WhyUnavailable => File.Exists(ChromiumPath)
        ? null
        : $"no Chromium at {ChromiumPath} (apt-get install chromium; .ci/run installs it)";

    /// <summary>The folder CI keeps the screenshots in: artifacts/dashboard-screenshots at the repository's root.</summary>
    public static string ScreenshotFolder { get; } = FindScreenshotFolder();

    public static async Task<BrowserSession?> StartIfAvailableAsync()
    {
        if (WhyUnavailable is not null)
        {
            return null;
        }
        // A page draws its data after its circuit starts and reads the emulators: with the other test projects running on
        // the same 2 cores that once took more than Playwright's default of 5 s.
        Assertions.SetDefaultExpectTimeout((float)ExpectTimeout.TotalMilliseconds);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // --no-sandbox: CI runs as root. The rest: this machine reaches no network but the registries, and Chromium's
            // background connections would be refused, many at a time.
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        });
        return new BrowserSession(playwright, browser);
    }

    /// <summary>A page of its own (laptop size unless told), at the dashboard's address.</summary>
    public async Task<IPage> OpenAsync(Uri dashboard, string path, int width = 1280, int height = 900)
    {
        var page = await NewPageAsync(dashboard, width, height);
        await page.GotoAsync(path);
        return page;
    }

    /// <summary>A page of its own in a new context (nothing cached), not navigated yet.</summary>
    public async Task<IPage> NewPageAsync(Uri dashboard, int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = dashboard.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        return await context.NewPageAsync();
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });
    }

    private static string FindScreenshotFolder() => RepositoryFolder.Find() is { } root
        ? Path.Combine(root, "artifacts", "dashboard-screenshots")
        : Path.Combine(AppContext.BaseDirectory, "dashboard-screenshots");

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}

/// <summary>A browser test: skipped, saying why, where Chromium is not installed.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (BrowserSession.WhyUnavailable is { } reason)
        {
            Skip = $"Browser tests skipped: {reason}.";
        }
    }
}
