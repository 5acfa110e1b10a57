using Services.Transform;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddTransformService();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
