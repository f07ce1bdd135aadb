import { CfnOutput, Stack } from 'aws-cdk-lib';
import {
  CfnEIP,
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  type ISecurityGroup,
  type IVpc,
  NatProvider,
  SecurityGroup,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The context flag that turns the fixed egress address on: `-c fixedEgressIp=true` or `"fixedEgressIp": true` in cdk.json. */
export const FIXED_EGRESS_IP_CONTEXT = 'fixedEgressIp';

/**
 * Reads the flag. `-c` passes strings and cdk.json passes JSON, so both `true` and `"true"` turn it on; absent,
 * `false` or `"false"` leave it off. Anything else is refused rather than guessed (`-c fixedEgressIp=yes`).
 */
export function fixedEgressIpEnabled(value: unknown): boolean {
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(`Context ${FIXED_EGRESS_IP_CONTEXT} must be true or false, got ${JSON.stringify(value)}.`);
}

/** Where a function that calls providers runs when the stack has a fixed egress address (NodejsFunction props). */
export interface EgressPlacement {
  vpc: IVpc;
  vpcSubnets: SubnetSelection;
  securityGroups: ISecurityGroup[];
}

/**
 * A fixed public address for calls to SMS/WhatsApp providers, for gateways (several in Bangladesh) that accept
 * calls only from whitelisted IPs: a VPC whose private subnets leave through ONE NAT gateway with ONE Elastic IP,
 * printed as the EgressIp output. Only the functions the catalog marks `callsProviders` are placed in it.
 *
 * One NAT, not one per AZ (the AWS norm for availability): a NAT per AZ would mean two addresses to whitelist with
 * every gateway and twice the hourly cost. The price is that egress depends on the NAT's AZ: if that AZ fails,
 * sends fail until it is back (messages wait on their queues and are retried, then land in the DLQs, which alarm).
 * Lambdas still run in both AZs; the other AZ's traffic crosses to the NAT (inter-AZ transfer, per GB).
 *
 * Endpoints: only the DynamoDB gateway endpoint, which is free and keeps table traffic off the NAT. SQS, KMS and other
 * AWS API calls go through the NAT (a few KB per message, billed per GB processed): interface endpoints for them
 * would cost more per month (hourly, per AZ, per service) than that traffic.
 */
export class Egress extends Construct {
  readonly vpc: Vpc;
  readonly securityGroup: SecurityGroup;
  /** The Elastic IP every call leaves from. */
  readonly elasticIp: CfnEIP;
  readonly placement: EgressPlacement;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    // Our own EIP (rather than one the NAT provider allocates) so the address survives a replacement of the NAT
    // gateway, and so it can be output. It is deleted with the stack (or when the flag is turned off): a new
    // deployment gets a new address, to be whitelisted again.
    this.elasticIp = new CfnEIP(this, 'ElasticIp', { domain: 'vpc', tags: [{ key: 'Name', value: `${Stack.of(this).stackName}-egress` }] });

    const flowLogs = new LogGroup(this, 'FlowLogs', { retention: RetentionDays.ONE_MONTH });
    this.vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      natGatewayProvider: NatProvider.gateway({ eipAllocationIds: [this.elasticIp.attrAllocationId] }),
      subnetConfiguration: [
        // Holds only the NAT gateway.
        { name: 'Public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Senders', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
      ],
      gatewayEndpoints: { DynamoDb: { service: GatewayVpcEndpointAwsService.DYNAMODB, subnets: [{ subnetType: SubnetType.PRIVATE_WITH_EGRESS }] } },
      // Which provider hosts the senders reached, and what was rejected (cdk-nag AwsSolutions-VPC7).
      flowLogs: { All: { destination: FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: FlowLogTrafficType.ALL } },
      // Nothing uses the default security group; restricting it would add a custom-resource Lambda to the stack.
      restrictDefaultSecurityGroup: false,
    });

    this.securityGroup = new SecurityGroup(this, 'Senders', {
      vpc: this.vpc,
      description: 'ispnotify functions that call providers: all outbound (via the NAT), no inbound',
      allowAllOutbound: true,
    });

    this.placement = {
      vpc: this.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
    };

    // On the stack itself so the output is named exactly EgressIp.
    new CfnOutput(Stack.of(this), 'EgressIp', {
      value: this.elasticIp.attrPublicIp,
      description: 'The one public IP every call to an SMS/WhatsApp provider leaves from: give it to gateways that whitelist source IPs',
    });
  }
}
