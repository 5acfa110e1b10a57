namespace EventBus.Tests;

// Message types of the tests; each test class uses its own, so no topic is shared between classes.
public sealed record OrderPlaced(string OrderId, decimal Total);
public sealed record OrderShipped(string OrderId, string Carrier);
public sealed record PaymentFailed(string OrderId, string Reason);
public sealed record StockReserved(string Sku, int Quantity);
public sealed record LongJob(string Name, int Seconds);
public sealed record Ping(int Number);
