namespace Pipeline.Engine.Transform;

/// <summary>The four statuses an order or item may have.</summary>
public enum OrderStatus
{
    Delivered,
    Returned,
    Shipped,
    Pending,
}

/// <summary>The statuses as they are written in the files.</summary>
public static class OrderStatusText
{
    public const string Delivered = "delivered";
    public const string Returned = "returned";
    public const string Shipped = "shipped";
    public const string Pending = "pending";

    public static string Of(OrderStatus status) => status switch
    {
        OrderStatus.Delivered => Delivered,
        OrderStatus.Returned => Returned,
        OrderStatus.Shipped => Shipped,
        _ => Pending,
    };
}
