using Services.Dashboard;

HealthProbe.ExitIfRequested(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddDashboardService();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapDashboard();
app.Run();
