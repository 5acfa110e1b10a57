using Pipeline.Engine.Batches;

namespace Pipeline.Engine.Transform;

/// <summary>Where the engine hands the validated, enriched records of a batch, one writer per part.</summary>
public interface IEnrichedOutput
{
    /// <summary>A writer for one orders or items part; used by one worker thread, disposed when the part is read.</summary>
    IEnrichedRecordWriter OpenPart(BatchPart part);
}

public interface IEnrichedRecordWriter : IDisposable
{
    void Write(in OrderFact order);

    void Write(in EnrichedOrderItem item);
}
