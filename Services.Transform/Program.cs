using Services.Transform;

HealthProbe.ExitIfRequested(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddTransformService();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
