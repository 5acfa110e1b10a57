using Services.Notifier;

HealthProbe.ExitIfRequested(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddNotifierService();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
