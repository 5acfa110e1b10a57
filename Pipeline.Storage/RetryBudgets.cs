namespace Pipeline.Storage;

/// <summary>
/// How many attempts a storage operation makes before it gives up and throws, so that the delivery fails and SQS brings
/// the message back later: each budget is for one kind of contention, and large enough that only a real fault spends it.
/// </summary>
internal static class RetryBudgets
{
    /// <summary>Conditional writes of one KPI day-state item that may lose to other folds of the same day.</summary>
    public const int KpiStateRaces = 100;

    /// <summary>Rounds of a BatchWriteItem or BatchGetItem that DynamoDB answers with items left unprocessed (throttling).</summary>
    public const int UnprocessedBatchRounds = 100;

    /// <summary>Conditional writes of one page of the order key index that may lose to other claims and releases.</summary>
    public const int KeyPageRaces = 50;
}
