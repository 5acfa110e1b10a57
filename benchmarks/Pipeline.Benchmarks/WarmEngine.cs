using System.Diagnostics;
using System.Runtime;
using Pipeline.Engine.Batches;
using static Benchmarks.Figures;

namespace Pipeline.Benchmarks;

/// <summary>
/// The engine run several times in one process: the first run pays for compiling the code, the later ones show what
/// the work itself costs. CPU time (all threads) and compile time per run, so a loaded machine distorts them less than
/// wall time.
/// </summary>
internal static class WarmEngine
{
    public static void Run(string batch, int runs, int threads)
    {
        Console.WriteLine($"batch {batch}: {runs} runs in one process, {threads} reader thread(s); load average {LoadAverage()}");
        var options = new EngineOptions { MaxDegreeOfParallelism = threads };
        for (int run = 1; run <= runs; run++)
        {
            TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            TimeSpan compileBefore = JitInfo.GetCompilationTime();
            long methodsBefore = JitInfo.GetCompiledMethodCount();
            var stopwatch = Stopwatch.StartNew();
            BatchResult result = new BatchProcessor(options).Process(LocalBatchFolder.Open(batch));
            double wall = stopwatch.Elapsed.TotalSeconds;
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            Console.WriteLine(
                $"run {run}: {cpu,5:F2} s CPU, {wall,5:F2} s wall, compiling {JitInfo.GetCompiledMethodCount() - methodsBefore,4} methods " +
                $"took {(JitInfo.GetCompilationTime() - compileBefore).TotalSeconds,4:F2} s, accepted {result.Accepted}");
        }

        Console.WriteLine($"load average {LoadAverage()}");
    }
}
