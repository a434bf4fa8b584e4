/**
 * The GatewayService component: composes the gateway fleet from one file per concern (network, security groups,
 * load balancer, image, identities, task, autoscaling), each declaring its resources as children of this
 * component. Its args, defaults and validation are components/gateway-service-args.ts.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { gatewayAutoscaling } from "./gateway-autoscaling";
import { gatewayIam, gatewayTaskPolicy } from "./gateway-iam";
import { gatewayImage } from "./gateway-image";
import { gatewayLoadBalancer, listenerPortsFor } from "./gateway-load-balancer";
import { gatewaySecurityGroups } from "./gateway-security-groups";
import { validateGatewayServiceArgs, withGatewayDefaults, type GatewayServiceArgs } from "./gateway-service-args";
import { gatewayTask } from "./gateway-task";
import { Network, VpcEndpoints } from "./network";
import { endpointPolicyDocument } from "./policies";

/**
 * The gateway fleet: a Network (new awsx VPC or existing) with VPC endpoints, an awsx ApplicationLoadBalancer
 * (idle timeout above the heartbeat, invalid headers dropped, HTTPS + redirect with a certificate, health check
 * and deregistration delay from runtime/contracts/drain.ts, so the gateway drains before the ALB cuts its
 * sockets), an awsx FargateService (private subnets without public IPs when there is NAT, non-root, read-only
 * root fs, secrets injected from Secrets Manager, least-privilege task role) and autoscaling on CPU and requests.
 * The internal delivery port is open only to other gateway tasks, through a self-referencing rule.
 */
export class GatewayService extends pulumi.ComponentResource {
  /** The URL users open. */
  public readonly url: pulumi.Output<string>;
  /** The WebSocket endpoint (`/ws` on the same origin). */
  public readonly wsUrl: pulumi.Output<string>;
  public readonly clusterName: pulumi.Output<string>;
  public readonly serviceName: pulumi.Output<string>;
  /** For CloudWatch dimensions (`LoadBalancer`, `TargetGroup`). */
  public readonly loadBalancerArnSuffix: pulumi.Output<string>;
  public readonly targetGroupArnSuffix: pulumi.Output<string>;
  /** The image the tasks run. */
  public readonly imageUri: pulumi.Output<string>;

  constructor(name: string, args: GatewayServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("parley:gateway:GatewayService", name, {}, opts);
    validateGatewayServiceArgs(name, args);
    const a = withGatewayDefaults(args);
    const tags = args.tags;
    const region = aws.getRegionOutput({}, { parent: this }).region;

    const net = new Network(`${name}-network`, { choice: args.network, tags }, { parent: this });
    const { vpcId, publicSubnetIds, taskSubnetIds, privateTasks } = net;
    const { albSg, taskSg } = gatewaySecurityGroups(
      name,
      { vpcId, port: a.port, internalPort: a.internalPort, listenerPorts: listenerPortsFor(a.certificateArn), tags },
      this,
    );

    // VPC endpoints: DynamoDB (free) in a VPC created here, SQS when asked; limited to this stack's resources.
    const taskPolicy = gatewayTaskPolicy(args.inboundQueue, args.notifyQueue, args.tables);
    if (net.created || args.network.sqsInterfaceEndpoint) {
      new VpcEndpoints(
        `${name}-endpoints`,
        {
          vpcId,
          subnetIds: taskSubnetIds,
          // An existing VPC's route tables belong to its owner (and may already route DynamoDB to an endpoint).
          dynamodbGateway: net.created,
          dynamodbPolicy: taskPolicy.apply((d) => JSON.stringify(endpointPolicyDocument(d, "dynamodb"))),
          sqsInterface: args.network.sqsInterfaceEndpoint,
          sqsPolicy: taskPolicy.apply((d) => JSON.stringify(endpointPolicyDocument(d, "sqs"))),
          clientSecurityGroupId: taskSg.id,
          tags,
        },
        { parent: this },
      );
    }

    const lb = gatewayLoadBalancer(
      name,
      {
        subnetIds: publicSubnetIds,
        securityGroupId: albSg.id,
        port: a.port,
        idleTimeoutSeconds: a.albIdleTimeoutSeconds,
        deletionProtection: a.deletionProtection,
        certificateArn: a.certificateArn,
        tags,
      },
      this,
    );
    this.loadBalancerArnSuffix = lb.loadBalancerArnSuffix;
    this.targetGroupArnSuffix = lb.targetGroupArnSuffix;
    const origin: pulumi.Output<string> = a.publicOrigin
      ? pulumi.output(a.publicOrigin)
      : pulumi.interpolate`http://${lb.dnsName}`;
    this.url = origin;
    this.wsUrl = origin.apply((o) => `${o.replace(/^http/, "ws")}/ws`);

    this.imageUri = gatewayImage(name, a, this);
    const iam = gatewayIam(
      name,
      {
        namePrefix: a.namePrefix,
        region,
        jwtSecretArn: a.jwtSecretArn,
        internalSecretArn: a.internalSecretArn,
        taskPolicy,
        tags,
      },
      this,
    );
    const task = gatewayTask(
      name,
      {
        service: a,
        region,
        origin,
        imageUri: this.imageUri,
        subnetIds: taskSubnetIds,
        // Only when there is no NAT path: tasks then need a public IP to reach ECR and the AWS APIs.
        assignPublicIp: !privateTasks,
        securityGroupId: taskSg.id,
        targetGroupArn: lb.targetGroupArn,
        executionRoleArn: iam.executionRoleArn,
        taskRoleArn: iam.taskRoleArn,
        secretArns: iam.secretArns,
        dependsOn: iam.policies,
      },
      this,
    );
    gatewayAutoscaling(
      name,
      {
        clusterName: task.cluster.name,
        serviceName: task.serviceName,
        service: task.service,
        minCount: a.minCount,
        maxCount: a.maxCount,
        cpuTargetPercent: a.cpuTargetPercent,
        requestsPerTarget: a.requestsPerTarget,
        loadBalancerArnSuffix: this.loadBalancerArnSuffix,
        targetGroupArnSuffix: this.targetGroupArnSuffix,
      },
      this,
    );

    this.clusterName = task.cluster.name;
    this.serviceName = pulumi.output(task.serviceName);

    this.registerOutputs({
      url: this.url,
      wsUrl: this.wsUrl,
      clusterName: this.clusterName,
      serviceName: this.serviceName,
      loadBalancerArnSuffix: this.loadBalancerArnSuffix,
      targetGroupArnSuffix: this.targetGroupArnSuffix,
      imageUri: this.imageUri,
    });
  }
}
