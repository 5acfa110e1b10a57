namespace Pipeline.Engine.Transform;

public enum OrderStatus
{
    Delivered,
    Returned,
    Shipped,
    Pending,
}
