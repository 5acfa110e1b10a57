using Amazon.CDK.AWS.EC2;

namespace Deploy;

/// <summary>
/// S3 and DynamoDB reached through gateway endpoints in the tasks' route tables: free, and that traffic (the batches'
/// files, every table call, and the image layers ECR serves from S3) then bypasses the NAT gateway and its per-GB charge.
/// </summary>
public static class GatewayEndpoints
{
    public static void Add(Vpc vpc, SubnetSelection tasks)
    {
        vpc.AddGatewayEndpoint("S3Endpoint", new GatewayVpcEndpointOptions { Service = GatewayVpcEndpointAwsService.S3, Subnets = [tasks] });
        vpc.AddGatewayEndpoint("DynamoDbEndpoint", new GatewayVpcEndpointOptions { Service = GatewayVpcEndpointAwsService.DYNAMODB, Subnets = [tasks] });
    }
}
