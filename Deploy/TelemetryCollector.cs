namespace Deploy;

/// <summary>
/// The configuration of the OpenTelemetry collector beside each service: what the Aspire dashboard shows locally goes to
/// AWS. Traces to X-Ray (the W3C context the bus carries keeps one batch one trace across the services), metrics as
/// CloudWatch embedded-metric logs (namespace <c>Pipeline</c>), logs with their trace ids to the service's log group.
/// </summary>
public static class TelemetryCollector
{
    /// <summary>Where the service sends OTLP (gRPC); the collector listens on the task's loopback only.</summary>
    public const string OtlpEndpoint = "http://127.0.0.1:4317";

    public const string MetricsNamespace = "Pipeline";

    public const string MetricsStream = "otel-metrics";

    public const string LogsStream = "otel-logs";

    /// <summary>The collector's YAML (the ADOT image reads it from <c>AOT_CONFIG_CONTENT</c>).</summary>
    public static string Config(string logGroupName) => $"""
        receivers:
          otlp:
            protocols:
              grpc:
                endpoint: 127.0.0.1:4317
        processors:
          resourcedetection:
            detectors: [env, ecs]
          batch:
            timeout: 5s
        exporters:
          awsxray: {"{}"}
          awsemf:
            namespace: {MetricsNamespace}
            log_group_name: {logGroupName}
            log_stream_name: {MetricsStream}
          awscloudwatchlogs:
            log_group_name: {logGroupName}
            log_stream_name: {LogsStream}
        service:
          pipelines:
            traces:
              receivers: [otlp]
              processors: [resourcedetection, batch]
              exporters: [awsxray]
            metrics:
              receivers: [otlp]
              processors: [resourcedetection, batch]
              exporters: [awsemf]
            logs:
              receivers: [otlp]
              processors: [resourcedetection, batch]
              exporters: [awscloudwatchlogs]
        """;
}
