import { type CfnResource, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Egress, fixedEgressIpEnabled } from '../../lib/constructs/egress.js';
import { eventFunctions, httpFunctions, scheduledFunctions, streamFunctions, workerFunctions } from '../../shared/catalog.js';
import { synthesize, type Synthesized } from './synth.js';

// The flag as `cdk synth -c fixedEgressIp=true` passes it: a string.
let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ fixedEgressIp: 'true' });
}, 120_000);

const resolve = (value: unknown) => synth.stack.resolve(value);
/** Logical id of an L1 resource, or of the L1 behind an L2 construct. */
const logicalIdOf = (construct: IConstruct) => resolve(((construct.node.defaultChild ?? construct) as CfnResource).logicalId) as string;
const egress = () => synth.stack.node.findChild('Egress') as Egress;

const all = [
  ...httpFunctions.map((spec) => ({ spec, path: ['Api', spec.id] })),
  ...workerFunctions.map((spec) => ({ spec, path: ['Workers', spec.id] })),
  ...scheduledFunctions.map((spec) => ({ spec, path: ['Schedules', spec.id] })),
];
const callers = all.filter(({ spec }) => spec.callsProviders);
const others = all.filter(({ spec }) => !spec.callsProviders);

function functionResource(path: string[]) {
  let construct: IConstruct = synth.stack;
  for (const id of [...path, 'Function']) construct = construct.node.findChild(id);
  return synth.template.toJSON().Resources[logicalIdOf(construct)];
}

describe('the fixedEgressIp context flag', () => {
  it('accepts true/false as JSON (cdk.json) or strings (-c) and refuses anything else', () => {
    expect(fixedEgressIpEnabled(undefined)).toBe(false);
    expect(fixedEgressIpEnabled(false)).toBe(false);
    expect(fixedEgressIpEnabled('false')).toBe(false);
    expect(fixedEgressIpEnabled(true)).toBe(true);
    expect(fixedEgressIpEnabled('true')).toBe(true);
    expect(() => fixedEgressIpEnabled('yes')).toThrow(/fixedEgressIp must be true or false/);
  });

  it('is off by default: no VPC, NAT, EIP, endpoint or EgressIp output, and no function in a VPC', () => {
    // Bundling is irrelevant to this check (and the default synth is covered by stack.test.ts): skip it.
    const { template } = synthesize({ 'aws:cdk:bundling-stacks': [] });
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::EC2::EIP', 'AWS::EC2::VPCEndpoint', 'AWS::EC2::SecurityGroup', 'AWS::EC2::FlowLog']) {
      template.resourceCountIs(type, 0);
    }
    expect(template.findOutputs('EgressIp')).toEqual({});
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) expect(fn.Properties.VpcConfig).toBeUndefined();
  }, 60_000);
});

describe('with fixedEgressIp=true', () => {
  it('has one VPC over two AZs with exactly one NAT gateway and one Elastic IP, the NAT using that EIP', () => {
    synth.template.resourceCountIs('AWS::EC2::VPC', 1);
    synth.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    synth.template.resourceCountIs('AWS::EC2::EIP', 1);
    expect(egress().vpc.availabilityZones).toHaveLength(2);
    expect(egress().vpc.privateSubnets).toHaveLength(2);
    synth.template.hasResourceProperties('AWS::EC2::NatGateway', {
      AllocationId: { 'Fn::GetAtt': [logicalIdOf(egress().elasticIp), 'AllocationId'] },
    });
  });

  it('routes both private subnets to the internet through that one NAT gateway', () => {
    const nat = Object.keys(synth.template.findResources('AWS::EC2::NatGateway'))[0]!;
    for (const subnet of egress().vpc.privateSubnets) {
      synth.template.hasResourceProperties('AWS::EC2::Route', {
        RouteTableId: resolve(subnet.routeTable.routeTableId),
        DestinationCidrBlock: '0.0.0.0/0',
        NatGatewayId: { Ref: nat },
      });
    }
  });

  it('outputs EgressIp: the Elastic IP address, described for whitelisting', () => {
    synth.template.hasOutput('EgressIp', {
      Value: { 'Fn::GetAtt': [logicalIdOf(egress().elasticIp), 'PublicIp'] },
      Description: Match.stringLikeRegexp('whitelist'),
    });
  });

  it('puts exactly the send workers, GatewaysApi and the Reconciler in the VPC (catalog callsProviders)', () => {
    expect(callers.map(({ spec }) => spec.id).sort()).toEqual(['GatewaysApi', 'Reconciler', 'SendEmailWorker', 'SendPriorityWorker', 'SendSmsWorker', 'SendTelegramWorker', 'SendWhatsAppWorker']);
  });

  it.each(callers)('$spec.id runs in the private subnets with the all-outbound security group', ({ path }) => {
    const fn = functionResource(path);
    expect(fn.Properties.VpcConfig).toEqual({
      SubnetIds: egress().vpc.privateSubnets.map((subnet) => resolve(subnet.subnetId)),
      SecurityGroupIds: [resolve(egress().securityGroup.securityGroupId)],
    });
    // CDK gives a function in a VPC the managed policy for its network interfaces (acknowledged for cdk-nag).
    const role = synth.template.toJSON().Resources[fn.Properties.Role['Fn::GetAtt'][0]];
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('AWSLambdaVPCAccessExecutionRole');
  });

  it.each(others)('$spec.id stays outside the VPC', ({ path }) => {
    expect(functionResource(path).Properties.VpcConfig).toBeUndefined();
  });

  it('gives the senders a security group with all outbound and no inbound rules', () => {
    synth.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    synth.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: resolve(egress().vpc.vpcId),
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: '-1' }],
      SecurityGroupIngress: Match.absent(),
    });
  });

  it('has a DynamoDB gateway endpoint on the private route tables and no (billed) interface endpoints', () => {
    synth.template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    const [endpoint] = Object.values(synth.template.findResources('AWS::EC2::VPCEndpoint'));
    expect(endpoint!.Properties.VpcEndpointType).toBe('Gateway');
    expect(JSON.stringify(endpoint!.Properties.ServiceName)).toContain('.dynamodb');
    expect(endpoint!.Properties.RouteTableIds).toEqual(egress().vpc.privateSubnets.map((subnet) => resolve(subnet.routeTable.routeTableId)));
  });

  it('logs VPC flows to a log group kept for 30 days (AwsSolutions-VPC7)', () => {
    synth.template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceId: resolve(egress().vpc.vpcId),
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: { Ref: logicalIdOf(egress().node.findChild('FlowLogs')) },
    });
    expect(synth.template.toJSON().Resources[logicalIdOf(egress().node.findChild('FlowLogs'))].Properties.RetentionInDays).toBe(30);
  });

  it('adds no function of its own (no custom resources)', () => {
    // Apart from the catalog's: the billing-events and stream functions, and the admin console's BucketDeployment handler, none of the egress's.
    const consoleDeploy = Object.keys(synth.template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('CustomCDKBucketDeployment')).length;
    synth.template.resourceCountIs('AWS::Lambda::Function', all.length + eventFunctions.length + streamFunctions.length + consoleDeploy);
  });

  describe('cdk-nag (AwsSolutions)', () => {
    it('reports no unacknowledged findings', () => {
      const findings = synth.validationReport.pluginReports.flatMap((report) => report.violations.map((v) => v.ruleName));
      expect(findings).toEqual([]);
      const direct = new AwsSolutionsChecks().validateScope(synth.app);
      expect(direct.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`)).toEqual([]);
    });

    it('leaves no error annotations on the stack', () => {
      expect(Annotations.fromStack(synth.stack).findError('*', Match.anyValue())).toEqual([]);
    });

    it('acknowledges the VPC access policy once per function in the VPC, each cdk-nag finding with a written reason', () => {
      // cdk-nag's acknowledgements only: once the Vpc reads the stack's AZs, aws-cdk-lib itself acknowledges CloudFormation-Validate::W3010.
      const acknowledgements = synth.app.node
        .findAll()
        .flatMap((construct) => construct.node.metadata)
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
        .filter(([id]) => id.includes('AwsSolutions-'));
      const vpcAccess = acknowledgements.filter(([id]) => id.includes('AWSLambdaVPCAccessExecutionRole'));
      expect(vpcAccess).toHaveLength(callers.length);
      for (const [id, reason] of acknowledgements) expect(reason.trim().length, id).toBeGreaterThan(20);
    });
  });
});
