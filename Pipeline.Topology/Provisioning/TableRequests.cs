using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Pipeline.Topology.Provisioning;

internal static class TableRequests
{
    public static CreateTableRequest Create(TableSpec table) => new()
    {
        TableName = table.Name,
        BillingMode = BillingMode.PAY_PER_REQUEST,
        AttributeDefinitions = table.KeyAttributes.Select(a => new AttributeDefinition(a.Name, ScalarType(a.Type))).ToList(),
        KeySchema = KeySchema(table.Key),
        GlobalSecondaryIndexes = table.GlobalIndexes.Count == 0 ? null : table.GlobalIndexes.Select(i => new GlobalSecondaryIndex
        {
            IndexName = i.Name,
            KeySchema = KeySchema(i.Key),
            Projection = new Projection { ProjectionType = ProjectionType.ALL },
        }).ToList(),
    };

    /// <summary>An existing table with other keys cannot be fixed in place: stop with a clear message rather than lose data.</summary>
    public static void EnsureSameKeys(TableSpec table, TableDescription actual)
    {
        if (!SameKeys(KeySchema(table.Key), actual.KeySchema))
        {
            throw new InvalidOperationException(
                $"Table {table.Name} exists with key ({Describe(actual.KeySchema)}) but the topology declares ({Describe(KeySchema(table.Key))}). " +
                "Migrate or remove the table by hand; the provisioner never deletes data.");
        }

        foreach (var index in table.GlobalIndexes)
        {
            var existing = actual.GlobalSecondaryIndexes?.FirstOrDefault(g => g.IndexName == index.Name);
            if (existing is null || !SameKeys(KeySchema(index.Key), existing.KeySchema))
            {
                throw new InvalidOperationException(
                    $"Table {table.Name} lacks the global secondary index {index.Name} ({Describe(KeySchema(index.Key))}) that the topology declares.");
            }
        }
    }

    private static List<KeySchemaElement> KeySchema(TableKey key)
    {
        var schema = new List<KeySchemaElement> { new(key.Partition.Name, KeyType.HASH) };
        if (key.Sort is not null)
        {
            schema.Add(new KeySchemaElement(key.Sort.Name, KeyType.RANGE));
        }
        return schema;
    }

    private static bool SameKeys(List<KeySchemaElement> expected, List<KeySchemaElement>? actual) =>
        actual is not null && expected.Count == actual.Count
        && expected.Zip(actual).All(p => p.First.AttributeName == p.Second.AttributeName && p.First.KeyType == p.Second.KeyType);

    private static string Describe(List<KeySchemaElement>? schema) =>
        schema is null ? "none" : string.Join(", ", schema.Select(k => $"{k.AttributeName} {k.KeyType.Value}"));

    private static ScalarAttributeType ScalarType(KeyAttributeType type) =>
        type == KeyAttributeType.Number ? ScalarAttributeType.N : ScalarAttributeType.S;
}
