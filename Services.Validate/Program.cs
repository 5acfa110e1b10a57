using Services.Validate;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddValidateService();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
