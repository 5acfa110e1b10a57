using Microsoft.Extensions.Configuration;

namespace AppHost.Commands;

/// <summary>Where the KPI dashboard is, and how it finds the Aspire dashboard to link a batch to its traces.</summary>
internal static class DashboardAddress
{
    /// <summary>http://localhost:15100 in <c>dotnet run</c> (the README names it next to the Aspire dashboard's 15080).</summary>
    public const int Port = 15100;

    /// <summary>The Aspire dashboard's own address (the AppHost's first URL), given to the KPI dashboard for its trace links.</summary>
    public static IResourceBuilder<ProjectResource> WithAspireDashboardLink(this IResourceBuilder<ProjectResource> dashboard, IConfiguration configuration) =>
        configuration["ASPNETCORE_URLS"]?.Split(';', StringSplitOptions.RemoveEmptyEntries) is [var first, ..]
            ? dashboard.WithEnvironment("Dashboard__AspireDashboardUrl", first)
            : dashboard;
}
