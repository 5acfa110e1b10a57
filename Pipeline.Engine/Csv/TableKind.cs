namespace Pipeline.Engine.Csv;

/// <summary>The three tables a batch is made of.</summary>
public enum TableKind
{
    Products,
    Orders,
    OrderItems,
}
