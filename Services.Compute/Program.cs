using Services.Compute;

HealthProbe.ExitIfRequested(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddComputeService();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
