using Services.Validate;

HealthProbe.ExitIfRequested(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddValidateService();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
