using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Telemetry;
using Amazon.Runtime.Telemetry.Tracing;

namespace ServiceDefaults.Aws;

/// <summary>
/// Spans for AWS SDK calls, from the SDK's own telemetry hooks (AWSSDK.Core 4's <see cref="TelemetryProvider"/>): the SDK
/// names each call <c>Service.Operation</c> (<c>S3.HeadObject</c>, <c>DynamoDB.Query</c>) and sets <c>rpc.system</c>
/// (<c>aws-api</c>), <c>rpc.service</c>, <c>rpc.method</c> and <c>aws.request_id</c>; this provider turns those spans into
/// <see cref="Activity"/> objects of the source <see cref="ActivitySourceName"/>, and a pipeline handler adds what the
/// OpenTelemetry AWS SDK conventions ask for per service (<c>aws.s3.bucket</c>, <c>aws.dynamodb.table_names</c>,
/// <c>aws.sqs.queue.url</c>, ...). Only the call itself is a span (not the SDK's inner spans for credentials or each HTTP
/// attempt), and only inside an operation: a call with no current activity (a poll, a health probe) starts no trace.
/// </summary>
public static class AwsTracing
{
    /// <summary>The activity source of the AWS SDK call spans: add it to the tracer provider to export them.</summary>
    public const string ActivitySourceName = "Amazon.AWSSDK";

    private static readonly ActivitySource Source = new(ActivitySourceName, typeof(AmazonServiceClient).Assembly.GetName().Version?.ToString());
    private static int s_enabled;

    /// <summary>
    /// Registers the tracer provider with the SDK and the handler that adds the conventions' attributes, once per process.
    /// Clients made before this call have no such handler (their spans carry the SDK's attributes only).
    /// </summary>
    public static void Enable()
    {
        if (Interlocked.Exchange(ref s_enabled, 1) == 1)
        {
            return;
        }
        AWSConfigs.TelemetryProvider.RegisterTracerProvider(new ActivityTracerProvider());
        RuntimePipelineCustomizerRegistry.Instance.Register(new ConventionsCustomizer());
    }

    /// <summary>Whether <paramref name="activity"/> is the span of an AWS SDK call.</summary>
    public static bool IsAwsCall(Activity? activity) => activity?.Source == Source;

    private sealed class ActivityTracerProvider : TracerProvider
    {
        private readonly ActivityTracer _tracer = new();

        public override Tracer GetTracer(string scope) => _tracer;

        public override Tracer GetTracer(string scope, Attributes attributes) => _tracer;
    }

    private sealed class ActivityTracer : Tracer
    {
        public override TraceSpan CreateSpan(
            string name, Attributes initialAttributes, SpanKind spanKind = SpanKind.INTERNAL, SpanContext? parentContext = null)
        {
            // The call's span only (the SDK's INTERNAL spans time credentials, compression and each HTTP attempt), and never a root.
            if (spanKind != SpanKind.CLIENT || Activity.Current is null)
            {
                return NoSpan.Instance;
            }
            var activity = Source.StartActivity(name, ActivityKind.Client, parentContext: default,
                tags: initialAttributes?.AllAttributes.Select(a => new KeyValuePair<string, object?>(a.Key, a.Value)));
            return activity is null ? NoSpan.Instance : new ActivitySpan(activity);
        }
    }

    private sealed class ActivitySpan : TraceSpan
    {
        private readonly Activity _activity;

        public ActivitySpan(Activity activity)
        {
            _activity = activity;
            Name = activity.DisplayName;
        }

        public override void SetAttribute(string key, object value) => _activity.SetTag(key, value);

        public override void EmitEvent(string name, Attributes? attributes = null) =>
            _activity.AddEvent(new ActivityEvent(name, tags: attributes is null ? null
                : new ActivityTagsCollection(attributes.AllAttributes.Select(a => new KeyValuePair<string, object?>(a.Key, a.Value)))));

        public override void SetStatus(SpanStatus status) => _activity.SetStatus(status switch
        {
            SpanStatus.OK => ActivityStatusCode.Ok,
            SpanStatus.ERROR => ActivityStatusCode.Error,
            _ => ActivityStatusCode.Unset,
        });

        public override void RecordException(Exception exception, Attributes? attributes = null)
        {
            _activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            _activity.AddException(exception);
            if (exception is AmazonServiceException { ErrorCode: { } code })
            {
                _activity.SetTag("aws.error_code", code);
            }
        }

        public override void End() => _activity.Stop();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _activity.Dispose();
            }
        }
    }

    private sealed class NoSpan : TraceSpan
    {
        public static readonly NoSpan Instance = new();

        public override void SetAttribute(string key, object value) { }
        public override void EmitEvent(string name, Attributes? attributes = null) { }
        public override void SetStatus(SpanStatus status) { }
        public override void RecordException(Exception exception, Attributes? attributes = null) { }
        public override void End() { }
        protected override void Dispose(bool disposing) { }
    }

    private sealed class ConventionsCustomizer : IRuntimePipelineCustomizer
    {
        public string UniqueName => "Pipeline.AwsTracing.Conventions";

        // Right inside the SDK's MetricsHandler, which starts the call's span: the span is then the current activity.
        public void Customize(Type type, RuntimePipeline pipeline) => pipeline.AddHandlerAfter<MetricsHandler>(new ConventionsHandler());
    }

    /// <summary>Adds the OpenTelemetry AWS SDK conventions' per-service attributes to the current call's span.</summary>
    private sealed class ConventionsHandler : PipelineHandler
    {
        public override void InvokeSync(IExecutionContext executionContext)
        {
            Tag(executionContext);
            base.InvokeSync(executionContext);
        }

        public override Task<T> InvokeAsync<T>(IExecutionContext executionContext)
        {
            Tag(executionContext);
            return base.InvokeAsync<T>(executionContext);
        }

        private static void Tag(IExecutionContext executionContext)
        {
            if (Activity.Current is not { } activity || !IsAwsCall(activity) || !activity.IsAllDataRequested)
            {
                return;
            }
            var context = executionContext.RequestContext;
            var config = context.ClientConfig;
            var serviceId = context.ServiceMetaData?.ServiceId ?? config.ServiceId;
            // The SDK names a call after its .NET request (S3.GetObjectMetadata); the conventions want the API's operation
            // (S3.HeadObject), which the service's metadata maps where they differ.
            var method = context.RequestName is { } requestName && requestName.EndsWith("Request", StringComparison.Ordinal)
                ? requestName[..^"Request".Length]
                : context.RequestName;
            if (method is not null && context.ServiceMetaData?.OperationNameMapping?.TryGetValue(method, out var operation) == true)
            {
                activity.DisplayName = $"{serviceId}.{operation}";
                activity.SetTag("rpc.method", operation);
            }
            activity.SetTag("cloud.region", config.RegionEndpoint?.SystemName ?? config.AuthenticationRegion);
            if (context.OriginalRequest is { } request)
            {
                RequestConventions.Tag(activity, serviceId, request);
            }
        }
    }
}

/// <summary>The request parameters that the OpenTelemetry AWS SDK conventions name, read once per request type.</summary>
internal static class RequestConventions
{
    private static readonly ConcurrentDictionary<Type, Action<Activity, object>?> Taggers = new();

    public static void Tag(Activity activity, string? serviceId, AmazonWebServiceRequest request)
    {
        switch (serviceId)
        {
            case "DynamoDB":
                activity.SetTag("db.system", "dynamodb");
                activity.SetTag("db.system.name", "aws.dynamodb");
                break;
            case "SQS":
                activity.SetTag("messaging.system", "aws_sqs");
                break;
        }
        Taggers.GetOrAdd(request.GetType(), Build)?.Invoke(activity, request);
    }

    private static Action<Activity, object>? Build(Type type)
    {
        var taggers = new List<Action<Activity, object>>();
        if (StringProperty(type, "BucketName") is { } bucket)
        {
            taggers.Add((activity, request) => activity.SetTag("aws.s3.bucket", bucket(request)));
        }
        else if (StringProperty(type, "DestinationBucket") is { } destination)
        {
            // CopyObject: the bucket written to; the source is a bucket too.
            var source = StringProperty(type, "SourceBucket");
            taggers.Add((activity, request) => activity.SetTag("aws.s3.bucket", destination(request)));
            if (StringProperty(type, "SourceKey") is { } sourceKey)
            {
                taggers.Add((activity, request) => activity.SetTag("aws.s3.copy_source", $"{source?.Invoke(request)}/{sourceKey(request)}"));
            }
        }
        if (StringProperty(type, "Key") is { } key)
        {
            taggers.Add((activity, request) => activity.SetTag("aws.s3.key", key(request)));
        }
        else if (StringProperty(type, "DestinationKey") is { } destinationKey)
        {
            taggers.Add((activity, request) => activity.SetTag("aws.s3.key", destinationKey(request)));
        }
        if (StringProperty(type, "UploadId") is { } uploadId)
        {
            taggers.Add((activity, request) => activity.SetTag("aws.s3.upload_id", uploadId(request)));
        }
        if (type.GetProperty("PartNumber") is { } partNumber)
        {
            taggers.Add((activity, request) => activity.SetTag("aws.s3.part_number", partNumber.GetValue(request)));
        }
        if (StringProperty(type, "TableName") is { } table)
        {
            taggers.Add((activity, request) => activity.SetTag("aws.dynamodb.table_names", table(request) is { } name ? new[] { name } : null));
        }
        else if (type.GetProperty("RequestItems") is { } items && typeof(System.Collections.IDictionary).IsAssignableFrom(items.PropertyType))
        {
            // BatchGetItem, BatchWriteItem: the tables are the map's keys.
            taggers.Add((activity, request) => activity.SetTag("aws.dynamodb.table_names",
                (items.GetValue(request) as System.Collections.IDictionary)?.Keys.Cast<string>().Order(StringComparer.Ordinal).ToArray()));
        }
        if (StringProperty(type, "IndexName") is { } index)
        {
            taggers.Add((activity, request) => activity.SetTag("aws.dynamodb.index_name", index(request)));
        }
        if (StringProperty(type, "QueueUrl") is { } queueUrl)
        {
            taggers.Add((activity, request) =>
            {
                var url = queueUrl(request);
                activity.SetTag("aws.sqs.queue.url", url);
                activity.SetTag("messaging.destination.name", url is null ? null : url[(url.LastIndexOf('/') + 1)..]);
            });
        }
        else if (StringProperty(type, "QueueName") is { } queueName)
        {
            taggers.Add((activity, request) => activity.SetTag("messaging.destination.name", queueName(request)));
        }
        return taggers.Count == 0 ? null : (activity, request) => taggers.ForEach(tag => tag(activity, request));
    }

    private static Func<object, string?>? StringProperty(Type type, string name) =>
        type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance) is { PropertyType: var propertyType } property && propertyType == typeof(string)
            ? request => (string?)property.GetValue(request)
            : null;
}
