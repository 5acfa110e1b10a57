using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Kpis;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline kpis --date D | --category C [--from D1] [--to D2] | --from D1 --to D2</c>: KPI rows from DynamoDB,
/// as a table on a terminal and as CSV (the columns of <c>pipeline process</c>) with <c>--csv</c> or when redirected.
/// </summary>
internal sealed class KpisCommand : AwsCommand
{
    private readonly Option<DateOnly?> _date = DateOption("--date", "A day: its order KPIs and every category's KPIs on it.");
    private readonly Option<string> _category = new("--category") { Description = "A category: its KPIs per day (within --from/--to when given)." };
    private readonly Option<DateOnly?> _from = DateOption("--from", "First day (inclusive). Without --category: order KPIs per day from --from to --to.");
    private readonly Option<DateOnly?> _to = DateOption("--to", "Last day (inclusive).");
    private readonly Option<bool> _csv = new("--csv") { Description = "CSV even on a terminal (always CSV when stdout is redirected)." };

    public KpisCommand()
        : base("kpis", "Print KPI rows from DynamoDB.")
    {
        Options.Add(_date);
        Options.Add(_category);
        Options.Add(_from);
        Options.Add(_to);
        Options.Add(_csv);
        Validators.Add(command =>
        {
            bool Given(Option option) => command.GetResult(option) is not null;
            if (Given(_date) == (Given(_category) || Given(_from) || Given(_to)))
            {
                command.AddError("give either --date D, or --category C [--from D1] [--to D2], or --from D1 --to D2");
            }
            else if (!Given(_date) && !Given(_category) && !(Given(_from) && Given(_to)))
            {
                command.AddError("order KPIs over days need both --from and --to");
            }
        });
    }

    protected override async Task<int> RunAsync(ParseResult result, AwsConnection aws, CancellationToken cancellationToken)
    {
        var kpis = new KpiQueries(aws.DynamoDb, aws.Topology);
        var csv = result.GetValue(_csv) || Console.IsOutputRedirected;
        var (from, to) = (result.GetValue(_from), result.GetValue(_to));

        if (result.GetValue(_date) is { } day)
        {
            var order = await kpis.GetDayAsync(day, cancellationToken);
            WriteOrderKpis(order is null ? [] : [order], csv);
            Console.Out.WriteLine();
            WriteCategoryKpis(await kpis.GetCategoriesOnDayAsync(day, cancellationToken), csv);
        }
        else if (result.GetValue(_category) is { } category)
        {
            WriteCategoryKpis(await kpis.GetCategoryAsync(category, from, to, cancellationToken), csv);
        }
        else
        {
            WriteOrderKpis(await kpis.GetDaysAsync(from!.Value, to!.Value, cancellationToken), csv);
        }
        return ExitCodes.Accepted;
    }

    private static void WriteOrderKpis(IReadOnlyList<OrderKpiRow> rows, bool csv)
    {
        if (csv)
        {
            KpiCsv.WriteOrderKpis(Console.Out, rows);
            return;
        }
        TextTable.Write(Console.Out, KpiCsv.OrderHeader.Split(','), rows.Select(r => (IReadOnlyList<string>)
            [
                KpiCsv.Format(r.OrderDate), KpiCsv.Format(r.TotalOrders), KpiCsv.Format(r.TotalRevenue),
                KpiCsv.Format(r.TotalItemsSold), KpiCsv.Format(r.ReturnRate), KpiCsv.Format(r.UniqueCustomers),
            ]));
    }

    private static void WriteCategoryKpis(IReadOnlyList<CategoryKpiRow> rows, bool csv)
    {
        if (csv)
        {
            KpiCsv.WriteCategoryKpis(Console.Out, rows);
            return;
        }
        TextTable.Write(Console.Out, KpiCsv.CategoryHeader.Split(','), rows.Select(r => (IReadOnlyList<string>)
            [r.Category, KpiCsv.Format(r.OrderDate), KpiCsv.Format(r.DailyRevenue), KpiCsv.Format(r.AvgOrderValue), KpiCsv.Format(r.AvgReturnRate)]));
    }

    /// <summary>A day as 2025-03-25 or 20250325 (how batches are named).</summary>
    internal static Option<DateOnly?> DateOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = argument =>
        {
            var text = argument.Tokens.Single().Value;
            if (DateOnly.TryParseExact(text, ["yyyy-MM-dd", "yyyyMMdd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                return day;
            }
            argument.AddError($"{name} '{text}' is not a date (yyyy-MM-dd or yyyyMMdd)");
            return null;
        },
    };
}
