using System.Diagnostics;
using System.Text;
using Amazon.S3.Model;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Storage.Batches;
using Pipeline.Testing.Aws;
using Reliability.Tests.Chaos;
using Reliability.Tests.Faults;

namespace Reliability.Tests.Scenario;

/// <summary>
/// One run against the real system: the AppHost on the emulators behind the fault proxy, rounds of batches (good ones,
/// rejected ones, several on the same days, a large one, replacements, an identical re-upload, retractions) while the
/// services are killed and restarted, AWS calls fail, an emulator is unreachable for a while, stage messages arrive
/// twice and late, and bad input is sent on the bus; then everything is checked against the engine
/// (<see cref="Verification"/>).
/// </summary>
public sealed class FaultScenario(ScenarioOptions options, Action<string> log)
{
    /// <summary>The first days the batches start on: two weeks, so that batches share days.</summary>
    private static readonly DateOnly Window = new(2022, 3, 1);

    private const int WindowDays = 14;

    /// <summary>The most days one batch spans (the large one).</summary>
    private const int MaxBatchDays = 7;

    private readonly BatchPlan _plan = new();
    private readonly List<string> _problems = [];
    private readonly List<string> _folders = [];
    private int _rounds;

    public async Task<ScenarioReport> RunAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var faults = new FaultPlan(options.Seed, options.Faults);
        await using var proxy = await AwsProxy.StartAsync(faults);
        await using var app = new ReliabilityApp(proxy);
        await app.StartAsync();
        log($"seed {options.Seed}: app up in {clock.Elapsed.TotalSeconds:F0} s, faults through the proxy from now on");
        using var driver = new PipelineDriver(app);
        var sns = app.CreateSnsClient();
        await using var inbox = new AlertInbox(driver.Sqs, driver.Topology.AlertsInboxQueue.Name);
        inbox.Start();
        await using var tap = new MessageTap(driver.Sqs, sns, driver.Topology, options.Seed, options.DuplicateShare, options.MaxDuplicateDelay);
        await tap.StartAsync(cancellationToken);
        var badInput = new BadInput(driver.Sqs, sns, driver.Topology);
        var killer = new ServiceKiller(app.App);

        using var stopSupervising = new CancellationTokenSource();
        var supervising = killer.SuperviseAsync(EmulatorApp.Services, stopSupervising.Token);
        var random = new Random(options.Seed);
        using var stopChaos = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        faults.Active = true;
        var chaos = Task.WhenAll(
            KillAsync(killer, new Random(random.Next()), stopChaos.Token),
            OutagesAsync(faults, new Random(random.Next()), stopChaos.Token));
        var deadline = options.Duration is { } duration ? DateTimeOffset.UtcNow + duration : (DateTimeOffset?)null;
        try
        {
            do
            {
                await RoundAsync(_rounds++, new Random(random.Next()), driver, inbox, tap, badInput, cancellationToken);
                log($"round {_rounds} done at {clock.Elapsed.TotalMinutes:F1} min: {faults.Total} faults, {killer.Kills} kills so far");
            }
            while (deadline is { } end && DateTimeOffset.UtcNow < end);
        }
        finally
        {
            await stopChaos.CancelAsync();
            await chaos;
            faults.Active = false;
        }

        log($"chaos over at {clock.Elapsed.TotalMinutes:F1} min; waiting for the system to settle");
        await tap.DrainAsync();
        var verification = new Verification(
            driver, _plan, badInput.Sent, inbox, (Window, Window.AddDays(WindowDays + MaxBatchDays)), options.SettleTimeout, log);
        var discrepancies = _problems.Concat(await verification.RunAsync(cancellationToken)).ToList();
        await stopSupervising.CancelAsync();
        await supervising;
        foreach (var folder in _folders)
        {
            Directory.Delete(folder, recursive: true);
        }
        return new ScenarioReport(options.Seed, _rounds, _plan.Versions, killer.Kills, killer.UnexpectedExits, faults.Calls, faults.ByKind, faults.ByService,
            tap.Copies, badInput.Sent.Count, inbox.All, discrepancies, clock.Elapsed, app.RecentServiceLogs(200));
    }

    /// <summary>One round: about twenty batch versions and the bad input, at random moments, some waiting for another's outcome.</summary>
    private async Task RoundAsync(
        int round, Random random, PipelineDriver driver, AlertInbox inbox, MessageTap tap, BadInput badInput, CancellationToken cancellationToken)
    {
        var prefix = $"r{round}-";
        var steps = new List<Func<Task>>();
        TimeSpan Delay(double maxSeconds) => TimeSpan.FromSeconds(random.NextDouble() * maxSeconds);
        DateOnly Day() => Window.AddDays(random.Next(0, WindowDays));
        (string Folder, long Ids) Generate(int orders, int days, long? ids = null)
        {
            var offset = ids ?? PipelineDriver.NewIds();
            var folder = PipelineDriver.Generate(orders, Day(), (ulong)random.Next(), days, offset);
            _folders.Add(folder);
            return (folder, offset);
        }

        var goods = Enumerable.Range(1, 10).Select(i => (Name: $"{prefix}good-{i:00}", Data: Generate(random.Next(100, 600), random.Next(2, 6)))).ToArray();
        foreach (var (name, data) in goods)
        {
            var version = _plan.Add(new PlannedVersion
            {
                Batch = name,
                Version = 1,
                Alert = ExpectedAlert.Succeeded,
                Kind = "good",
                Folder = data.Folder,
                InForce = true,
                Archive = BatchLayout.ProcessedPrefix,
            });
            steps.Add(Submit(version, Delay(40)));
        }
        var large = Generate(options.LargeBatchOrders, MaxBatchDays);
        var largeVersion = _plan.Add(new PlannedVersion
        {
            Batch = $"{prefix}large",
            Version = 1,
            Alert = ExpectedAlert.Succeeded,
            Kind = "large",
            Folder = large.Folder,
            InForce = true,
            Archive = BatchLayout.ProcessedPrefix,
        });
        steps.Add(Submit(largeVersion, Delay(20)));

        var broken = Generate(random.Next(100, 400), 3);
        BreakStatus(broken.Folder);
        var brokenVersion = _plan.Add(new PlannedVersion
        {
            Batch = $"{prefix}bad-status",
            Version = 1,
            Alert = ExpectedAlert.Rejected,
            Kind = "rejected: invalid status",
            Folder = broken.Folder,
            Archive = BatchLayout.ErrorsPrefix,
        });
        steps.Add(Submit(brokenVersion, Delay(40)));

        var missing = Generate(random.Next(100, 400), 3);
        var missingVersion = _plan.Add(new PlannedVersion
        {
            Batch = $"{prefix}bad-missing",
            Version = 1,
            Alert = ExpectedAlert.Rejected,
            Kind = "rejected: a listed file is missing",
            Folder = missing.Folder,
            Archive = BatchLayout.ErrorsPrefix,
            OnlyManifestMoves = true,
        });
        var missingDelay = Delay(40);
        steps.Add(async () =>
        {
            await Task.Delay(missingDelay, cancellationToken);
            var uploaded = await new BatchUploader(driver.S3, new S3BatchStore(driver.S3))
                .UploadAsync(driver.Topology.Bucket.Name, missing.Folder, missingVersion.Batch, null, cancellationToken);
            var gone = missingVersion.Batch + "/orders/orders_part1.csv";
            await driver.S3.DeleteObjectAsync(driver.Topology.Bucket.Name, BatchLayout.DataPrefix + gone, cancellationToken);
            missingVersion.RawFiles.AddRange(
                BatchPlan.RawFilesOf(missing.Folder, missingVersion.Batch).Where(f => f != "orders/orders_part1.csv"));
            await driver.Bus.PublishAsync(
                new BatchSubmitted(missingVersion.Batch, uploaded.Bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "reliability"),
                cancellationToken);
        });

        var escape = _plan.Add(new PlannedVersion
        {
            Batch = $"{prefix}bad-escape",
            Version = 1,
            Alert = ExpectedAlert.Rejected,
            Kind = "rejected: manifest names another batch's files",
            Archive = BatchLayout.ErrorsPrefix,
            OnlyManifestMoves = true,
        });
        var escapeDelay = Delay(40);
        steps.Add(async () =>
        {
            await Task.Delay(escapeDelay, cancellationToken);
            var manifest = new BatchManifest(
                "20220301",
                [$"../../{goods[1].Name}/orders/orders_part1.csv"],
                [$"../../{goods[1].Name}/order_items/order_items_part1.csv"],
                $"data/{goods[1].Name}/products.csv");
            var key = BatchLayout.ManifestKey(escape.Batch);
            var put = await driver.S3.PutObjectAsync(
                new PutObjectRequest { BucketName = driver.Topology.Bucket.Name, Key = key, InputStream = new MemoryStream(manifest.ToJson()) },
                cancellationToken);
            escape.RawFiles.Add(key[BatchLayout.BatchPrefix(escape.Batch).Length..]);
            await driver.Bus.PublishAsync(
                new BatchSubmitted(escape.Batch, driver.Topology.Bucket.Name, key, S3BatchStore.BareETag(put.ETag), DateTimeOffset.UtcNow, "reliability"),
                cancellationToken);
        });

        // Versions that wait for another's outcome: an id counted twice, a replacement, a rejected replacement, the same files again, two retractions.
        var counted = Generate(random.Next(100, 300), 3, goods[0].Data.Ids);
        var countedVersion = _plan.Add(new PlannedVersion
        {
            Batch = $"{prefix}bad-keys",
            Version = 1,
            Alert = ExpectedAlert.Rejected,
            Kind = "rejected: orders counted in another batch",
            Folder = counted.Folder,
            Archive = BatchLayout.ErrorsPrefix,
        });
        steps.Add(After(goods[0].Name, countedVersion, Delay(10)));

        MarkReplaced(goods[2].Name);
        var correction = Generate(random.Next(100, 600), random.Next(2, 6), goods[2].Data.Ids);
        var correctionVersion = _plan.Add(new PlannedVersion
        {
            Batch = goods[2].Name,
            Version = 2,
            Alert = ExpectedAlert.Succeeded,
            Kind = "replacement",
            Folder = correction.Folder,
            InForce = true,
            Archive = BatchLayout.ProcessedPrefix,
        });
        steps.Add(After(goods[2].Name, correctionVersion, Delay(10)));

        var badCorrection = Generate(random.Next(100, 600), 3, goods[3].Data.Ids);
        BreakStatus(badCorrection.Folder);
        var badCorrectionVersion = _plan.Add(new PlannedVersion
        {
            Batch = goods[3].Name,
            Version = 2,
            Alert = ExpectedAlert.Rejected,
            Kind = "rejected replacement",
            Folder = badCorrection.Folder,
            Archive = BatchLayout.ErrorsPrefix,
        });
        steps.Add(After(goods[3].Name, badCorrectionVersion, Delay(10)));

        var sameFilesAgain = _plan.Add(new PlannedVersion
        {
            Batch = goods[4].Name,
            Version = 1,
            Alert = ExpectedAlert.None,
            Kind = "the same files again",
            Folder = goods[4].Data.Folder,
            Archive = BatchLayout.ProcessedPrefix,
        });
        steps.Add(After(goods[4].Name, sameFilesAgain, Delay(10)));

        foreach (var retracted in new[] { goods[5].Name, goods[6].Name })
        {
            MarkRetracted(retracted);
            var retraction = _plan.Add(new PlannedVersion { Batch = retracted, Version = 2, Alert = ExpectedAlert.Retracted, Kind = "retraction" });
            var retractionDelay = Delay(10);
            steps.Add(async () =>
            {
                if (await SucceededAsync(inbox, retracted, cancellationToken))
                {
                    await Task.Delay(retractionDelay, cancellationToken);
                    await driver.Bus.PublishAsync(new BatchRetractionRequested(retracted, Reason: "sent by mistake", Source: "reliability"), cancellationToken);
                }
            });
        }

        foreach (var (_, messageId, send) in badInput.All())
        {
            tap.Ignore(messageId);
            var delay = Delay(60);
            steps.Add(async () =>
            {
                await Task.Delay(delay, cancellationToken);
                await send(cancellationToken);
            });
        }

        await Task.WhenAll(steps.Select(step => step()));

        Func<Task> Submit(PlannedVersion version, TimeSpan delay) => async () =>
        {
            await Task.Delay(delay, cancellationToken);
            await driver.SubmitAsync(version.Folder!, version.Batch);
            version.RawFiles.AddRange(BatchPlan.RawFilesOf(version.Folder!, version.Batch));
        };

        Func<Task> After(string batch, PlannedVersion version, TimeSpan delay) => async () =>
        {
            if (await SucceededAsync(inbox, batch, cancellationToken))
            {
                await Submit(version, delay)();
            }
        };
    }

    /// <summary>Waits for the first version of <paramref name="batch"/> to succeed; a run that never sees it notes why.</summary>
    private async Task<bool> SucceededAsync(AlertInbox inbox, string batch, CancellationToken cancellationToken)
    {
        try
        {
            await inbox.WaitForAsync(batch, a => a.Version == 1 && a.Status == AlertStatus.Succeeded, options.SettleTimeout, cancellationToken);
            return true;
        }
        catch (TimeoutException e)
        {
            lock (_problems)
            {
                _problems.Add($"{batch} v1 never succeeded, so what was to follow it was not sent: {e.Message}");
            }
            return false;
        }
    }

    private void MarkReplaced(string batch)
    {
        var first = _plan.Versions.Single(v => v.Batch == batch && v.Version == 1);
        first.InForce = false;
    }

    private void MarkRetracted(string batch)
    {
        var first = _plan.Versions.Single(v => v.Batch == batch && v.Version == 1);
        first.InForce = false;
        first.Archive = BatchLayout.RetractedPrefix;
    }

    /// <summary>An order status no rule accepts, on the first order of the first orders part.</summary>
    private static void BreakStatus(string folder)
    {
        var part = Directory.GetFiles(Path.Combine(folder, "orders")).Order(StringComparer.Ordinal).First();
        var lines = File.ReadAllLines(part);
        var fields = lines[1].Split(',');
        fields[2] = "teleported";
        lines[1] = string.Join(',', fields);
        File.WriteAllLines(part, lines, new UTF8Encoding(false));
    }

    /// <summary>
    /// Kills services hard at random moments: in the suite, each service <see cref="ScenarioOptions.KillsPerService"/>
    /// times within the round's first two minutes; in the soak, one service every 15 to 45 s. Services that ended on
    /// their own are started again, as an orchestrator would.
    /// </summary>
    private async Task KillAsync(ServiceKiller killer, Random random, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var schedule = options.Duration is null
            ? EmulatorApp.Services
                .SelectMany(s => Enumerable.Range(0, options.KillsPerService)
                    .Select(_ => (At: TimeSpan.FromSeconds(5 + random.NextDouble() * 110), Service: s)))
                .OrderBy(k => k.At).ToList()
            : null;
        var next = 0;
        var soakAt = TimeSpan.Zero;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                (TimeSpan At, string Service)? kill = schedule is null
                    ? (soakAt += TimeSpan.FromSeconds(15 + random.NextDouble() * 30), EmulatorApp.Services[random.Next(EmulatorApp.Services.Length)])
                    : next < schedule.Count ? schedule[next++] : null;
                var downtime = TimeSpan.FromSeconds(random.NextDouble() * 3);
                if (kill is null)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    return;
                }
                var wait = started + kill.Value.At - DateTimeOffset.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken);
                }
                // Not cancelled half-way: a service killed is always started again.
                await killer.KillAndRestartAsync(kill.Value.Service, downtime, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One emulator unreachable for <see cref="ScenarioOptions.Outage"/>: 40 s into the suite's round, then every
    /// <see cref="ScenarioOptions.OutageEvery"/>.
    /// </summary>
    private async Task OutagesAsync(FaultPlan faults, Random random, CancellationToken cancellationToken)
    {
        try
        {
            var wait = TimeSpan.FromSeconds(40);
            while (true)
            {
                await Task.Delay(wait, cancellationToken);
                var emulator = random.Next(2) == 0 ? Emulator.Fauxqs : Emulator.Dynalite;
                log($"{emulator} unreachable for {options.Outage.TotalSeconds:F0} s");
                faults.BeginOutage(emulator, options.Outage);
                wait = options.OutageEvery;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
