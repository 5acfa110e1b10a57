using Services.Compute;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddComputeService();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
