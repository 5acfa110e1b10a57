using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Curated;

/// <summary>
/// Writes the curated Parquet on several threads: the caller's items go, in chunks, to one
/// <see cref="CuratedOrderItemsWriter"/> per thread chosen by order date (day number modulo the writers' count), so each
/// day's file is still written by one writer, and the enriched files are read once, not once per writer. Together the
/// writers buffer no more rows than one writer with the same options would, besides the few chunks on their way to them.
/// <c>openDay</c> and <c>dayFinished</c> (see <see cref="CuratedOrderItemsWriter"/>) are called from the writers' threads.
/// Written to from one thread; an error of any writer (a price DECIMAL(38,18) cannot hold) is thrown by the next
/// <see cref="Write(in EnrichedOrderItem)"/> or by <see cref="Complete"/>.
/// </summary>
public sealed class ParallelCuratedWriter : IEnrichedRecordWriter
{
    /// <summary>Items handed to a writer at once: few enough hand-offs to cost nothing, small enough to hold several.</summary>
    private const int ChunkRows = 4096;

    /// <summary>Chunks waiting for each writer: the reader runs ahead of a writer by this much and no more.</summary>
    private const int ChunksQueued = 4;

    private readonly Share[] _shares;
    private readonly CancellationTokenSource _failed = new();
    private ExceptionDispatchInfo? _failure;
    private bool _completed;

    public ParallelCuratedWriter(Func<DateOnly, Stream> openDay, int writers, CuratedWriterOptions? options = null,
        Action<CuratedDayFile>? dayFinished = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writers, 1);
        options ??= new CuratedWriterOptions();
        var eachOptions = options with { MaxBufferedRows = Math.Max(1, options.MaxBufferedRows / writers) };
        _shares = Enumerable.Range(0, writers).Select(_ => new Share(new CuratedOrderItemsWriter(openDay, eachOptions, dayFinished))).ToArray();
        foreach (var share in _shares)
        {
            share.Writing = Task.Factory.StartNew(() => WriteQueued(share), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
    }

    public void Write(in OrderFact order)
    {
    }

    public void Write(in EnrichedOrderItem item)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        var share = _shares[item.OrderDate.DayNumber % _shares.Length];
        share.Chunk[share.Count++] = item;
        if (share.Count == share.Chunk.Length)
        {
            HandOff(share);
        }
    }

    /// <summary>Writes every day's remaining rows and finishes each file; the streams stay open (the caller's).</summary>
    public IReadOnlyList<CuratedDayFile> Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        foreach (var share in _shares)
        {
            if (share.Count > 0)
            {
                HandOff(share);
            }
            share.Queue.CompleteAdding();
        }
        _completed = true;
        WaitForWriters();
        _failure?.Throw();
        return _shares.SelectMany(s => s.Writing!.Result).OrderBy(d => d.Day).ToList();
    }

    public void Dispose()
    {
        if (!_completed)
        {
            _completed = true;
            _failed.Cancel();
            foreach (var share in _shares)
            {
                share.Queue.CompleteAdding();
            }
            WaitForWriters();
        }
        foreach (var share in _shares)
        {
            share.Writer.Dispose();
            share.Queue.Dispose();
        }
        _failed.Dispose();
    }

    private void HandOff(Share share)
    {
        try
        {
            share.Queue.Add((share.Chunk, share.Count), _failed.Token);
        }
        catch (OperationCanceledException)
        {
            _failure!.Throw(); // a writer failed and stopped taking chunks: its error is the one to tell
        }
        share.Chunk = RentChunk();
        share.Count = 0;
    }

    private IReadOnlyList<CuratedDayFile> WriteQueued(Share share)
    {
        try
        {
            foreach (var (chunk, count) in share.Queue.GetConsumingEnumerable(_failed.Token))
            {
                for (int i = 0; i < count; i++)
                {
                    share.Writer.Write(chunk[i]);
                }
                ArrayPool<EnrichedOrderItem>.Shared.Return(chunk);
            }
            return share.Writer.Complete();
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(error), null);
            _failed.Cancel();
            throw;
        }
    }

    /// <summary>Waits until every writer has stopped, whether it finished, failed or was stopped.</summary>
    private void WaitForWriters()
    {
        try
        {
            Task.WaitAll(_shares.Select(s => s.Writing!));
        }
        catch (AggregateException)
        {
            // _failure tells the first error; the other writers stopped because of it
        }
    }

    // Pooled: a chunk is large enough for the large-object heap, where a new one per hand-off would be costly garbage.
    private static EnrichedOrderItem[] RentChunk() => ArrayPool<EnrichedOrderItem>.Shared.Rent(ChunkRows);

    private sealed class Share(CuratedOrderItemsWriter writer)
    {
        public CuratedOrderItemsWriter Writer { get; } = writer;

        public BlockingCollection<(EnrichedOrderItem[] Items, int Count)> Queue { get; } = new(ChunksQueued);

        public EnrichedOrderItem[] Chunk { get; set; } = RentChunk();

        public int Count { get; set; }

        public Task<IReadOnlyList<CuratedDayFile>>? Writing { get; set; }
    }
}
