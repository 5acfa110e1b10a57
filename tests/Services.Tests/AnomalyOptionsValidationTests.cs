using Pipeline.Engine.DataQuality;
using Services.Notifier.Handlers;

namespace Services.Tests;

public class AnomalyOptionsValidationTests
{
    [Fact]
    public void Settings_that_cannot_work_are_refused_at_start_naming_each_setting_unless_the_check_is_off()
    {
        var validation = new AnomalyOptionsValidation();
        var result = validation.Validate(null, new AnomalyOptions { MinimumHistory = 9, SpreadFloor = -1 });

        Assert.True(result.Failed);
        Assert.Equal(
            ["Anomalies:MinimumHistory must be from 1 to Anomalies:Weeks (8), not 9.", "Anomalies:SpreadFloor must be zero or a positive number, not -1."],
            result.Failures);
        Assert.True(validation.Validate(null, new AnomalyOptions()).Succeeded);
        Assert.True(validation.Validate(null, new AnomalyOptions { Enabled = false, MinimumHistory = 9 }).Succeeded);
    }
}
