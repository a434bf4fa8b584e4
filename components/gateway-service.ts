import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import {
  deregistrationDelaySeconds,
  env,
  gatewaySecretEnvVars,
  gatewayTables,
  LB_HEALTH_PATH,
  lbHealthCheck,
  queues,
  tables,
} from "../runtime/contracts";
import { buildContextTag } from "./image-tag";
import { Network, VpcEndpoints, type NetworkChoice } from "./network";
import {
  albRequestCountLabel,
  assumeRolePolicyDocument,
  ecsServiceResourceId,
  endpointPolicyDocument,
  gatewayTaskPolicyDocument,
  iamRoleName,
  ignoreAutoscaledDesiredCount,
  secretsReadPolicyDocument,
} from "./policies";

export type GatewayTableKey = (typeof gatewayTables)[number];

export interface GatewayQueueRef {
  readonly arn: pulumi.Input<string>;
  readonly url: pulumi.Input<string>;
}

export interface GatewayTableRef {
  readonly name: pulumi.Input<string>;
  readonly arn: pulumi.Input<string>;
}

/** Where the gateway runs: a VPC this component creates, or an existing one. Plain: decides resources. */
export type GatewayNetwork = NetworkChoice;

export interface GatewayServiceArgs {
  readonly namePrefix: string;
  readonly network: GatewayNetwork;
  /** A prebuilt image URI; when unset the repo Dockerfile is built and pushed to a new ECR repository. */
  readonly image?: string;
  /** Docker build context holding the Dockerfile (defaults to the repo root). */
  readonly dockerContext?: string;
  readonly cpu?: number;
  readonly memoryMb?: number;
  readonly desiredCount?: number;
  readonly minCount?: number;
  readonly maxCount?: number;
  readonly cpuTargetPercent?: number;
  /** ALB requests per task per minute the autoscaler aims for. */
  readonly requestsPerTarget?: number;
  readonly port?: number;
  readonly internalPort?: number;
  readonly heartbeatMs?: number;
  readonly albIdleTimeoutSeconds?: number;
  readonly logLevel?: string;
  /** ACM certificate: HTTPS on 443 and HTTP 80 redirected to it. Plain: decides the listeners. */
  readonly certificateArn?: string;
  /** The origin browsers use; required with a certificate, else the ALB's own http URL. */
  readonly publicOrigin?: string;
  /** Existing secret/parameter ARNs; a Secrets Manager secret with a generated value is created for each unset one. */
  readonly jwtSecretArn?: string;
  readonly internalSecretArn?: string;
  readonly deletionProtection?: boolean;
  readonly logRetentionDays?: number;
  readonly inboundQueue: GatewayQueueRef;
  readonly notifyQueue: GatewayQueueRef;
  /** Exactly the contracts' gateway tables. */
  readonly tables: Readonly<Record<GatewayTableKey, GatewayTableRef>>;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Container user: the `node` user of the official Node image, never root. */
export const GATEWAY_CONTAINER_USER = "1000:1000";
/** Where the Dockerfile puts the built web client. */
export const GATEWAY_WEB_DIR = "/app/web";
export const GATEWAY_CONTAINER_NAME = "gateway";
/** Images the ECR lifecycle policy keeps: enough to roll back a few deploys. */
export const GATEWAY_IMAGES_KEPT = 10;

const repoRoot = path.resolve(__dirname, "..");

/**
 * The gateway fleet: a Network (new awsx VPC or existing) with VPC endpoints, an awsx ApplicationLoadBalancer
 * (idle timeout above the heartbeat, invalid headers dropped, HTTPS + redirect with a certificate, health check
 * and deregistration delay from runtime/contracts/drain.ts, so the gateway drains before the ALB cuts its
 * sockets), an
 * awsx FargateService (private subnets without public IPs when there is NAT, non-root, read-only root fs,
 * secrets injected from Secrets Manager, least-privilege task role) and autoscaling on CPU and requests.
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

    const a = {
      dockerContext: repoRoot,
      cpu: 512,
      memoryMb: 1024,
      desiredCount: 2,
      minCount: 2,
      maxCount: 10,
      cpuTargetPercent: 60,
      requestsPerTarget: 1000,
      port: 8080,
      internalPort: 8081,
      heartbeatMs: 25_000,
      albIdleTimeoutSeconds: 120,
      logLevel: "info",
      deletionProtection: true,
      logRetentionDays: 30,
      ...args,
    };
    if (!(a.minCount <= a.desiredCount && a.desiredCount <= a.maxCount)) {
      throw new Error(`GatewayService ${name}: minCount <= desiredCount <= maxCount must hold`);
    }
    if (a.port === a.internalPort) throw new Error(`GatewayService ${name}: port and internalPort must differ`);
    if (a.albIdleTimeoutSeconds * 1000 <= 2 * a.heartbeatMs) {
      throw new Error(`GatewayService ${name}: albIdleTimeoutSeconds must exceed twice heartbeatMs`);
    }
    if (a.certificateArn && !a.publicOrigin?.startsWith("https://")) {
      throw new Error(`GatewayService ${name}: publicOrigin (https://...) is required with certificateArn`);
    }
    for (const key of gatewayTables) {
      if (!args.tables[key]) throw new Error(`GatewayService ${name}: tables.${key} is required`);
    }
    const tags = args.tags;
    const region = aws.getRegionOutput({}, { parent: this }).region;

    // ---- network
    const net = new Network(`${name}-network`, { choice: args.network, tags }, { parent: this });
    const { vpcId, publicSubnetIds, taskSubnetIds, privateTasks } = net;

    // ---- security groups: internet → ALB → tasks:port; tasks ↔ tasks:internalPort only
    const albSg = new aws.ec2.SecurityGroup(
      `${name}-alb-sg`,
      { vpcId, description: "Parley ALB: HTTP(S) from the internet", tags },
      { parent: this },
    );
    const taskSg = new aws.ec2.SecurityGroup(
      `${name}-task-sg`,
      { vpcId, description: "Parley gateway tasks", tags },
      { parent: this },
    );
    const listenerPorts = a.certificateArn ? [80, 443] : [80];
    for (const p of listenerPorts) {
      for (const [family, cidr] of [
        ["v4", { cidrIpv4: "0.0.0.0/0" }],
        ["v6", { cidrIpv6: "::/0" }],
      ] as const) {
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-alb-in-${p}-${family}`,
          { securityGroupId: albSg.id, ipProtocol: "tcp", fromPort: p, toPort: p, ...cidr },
          { parent: this },
        );
      }
    }
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-alb-out-tasks`,
      {
        securityGroupId: albSg.id,
        ipProtocol: "tcp",
        fromPort: a.port,
        toPort: a.port,
        referencedSecurityGroupId: taskSg.id,
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-task-in-alb`,
      {
        securityGroupId: taskSg.id,
        ipProtocol: "tcp",
        fromPort: a.port,
        toPort: a.port,
        referencedSecurityGroupId: albSg.id,
      },
      { parent: this },
    );
    // Peer delivery: only members of this very group (other gateway tasks) reach the internal port.
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-task-in-peers`,
      {
        securityGroupId: taskSg.id,
        ipProtocol: "tcp",
        fromPort: a.internalPort,
        toPort: a.internalPort,
        referencedSecurityGroupId: taskSg.id,
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-task-out-peers`,
      {
        securityGroupId: taskSg.id,
        ipProtocol: "tcp",
        fromPort: a.internalPort,
        toPort: a.internalPort,
        referencedSecurityGroupId: taskSg.id,
      },
      { parent: this },
    );
    // AWS APIs (SQS, DynamoDB, ECR, Logs, Secrets Manager) over HTTPS; DNS and task metadata are not filtered.
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-task-out-https`,
      { securityGroupId: taskSg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" },
      { parent: this },
    );

    // ---- VPC endpoints: DynamoDB (free) in a VPC created here, SQS when asked; limited to this stack's resources
    const tableArns = gatewayTables.map((key) => pulumi.output(args.tables[key].arn));
    const taskPolicyDocument = pulumi
      .all([args.inboundQueue.arn, args.notifyQueue.arn, pulumi.all(tableArns)])
      .apply(([inboundQueueArn, notifyQueueArn, arns]) =>
        gatewayTaskPolicyDocument({
          inboundQueueArn,
          notifyQueueArn,
          tableArns: Object.fromEntries(gatewayTables.map((key, i) => [key, arns[i]!])) as Record<
            GatewayTableKey,
            string
          >,
        }),
      );
    if (net.created || args.network.sqsInterfaceEndpoint) {
      new VpcEndpoints(
        `${name}-endpoints`,
        {
          vpcId,
          subnetIds: taskSubnetIds,
          // An existing VPC's route tables belong to its owner (and may already route DynamoDB to an endpoint).
          dynamodbGateway: net.created,
          dynamodbPolicy: taskPolicyDocument.apply((d) => JSON.stringify(endpointPolicyDocument(d, "dynamodb"))),
          sqsInterface: args.network.sqsInterfaceEndpoint,
          sqsPolicy: taskPolicyDocument.apply((d) => JSON.stringify(endpointPolicyDocument(d, "sqs"))),
          clientSecurityGroupId: taskSg.id,
          tags,
        },
        { parent: this },
      );
    }

    // ---- load balancer
    // Its own path: the gateway counts these checks, and their silence tells it it was deregistered.
    const healthCheck = {
      path: LB_HEALTH_PATH,
      protocol: "HTTP",
      matcher: "200",
      interval: lbHealthCheck.intervalSeconds,
      timeout: lbHealthCheck.timeoutSeconds,
      healthyThreshold: lbHealthCheck.healthyThreshold,
      unhealthyThreshold: lbHealthCheck.unhealthyThreshold,
    };
    const alb = new awsx.lb.ApplicationLoadBalancer(
      `${name}-alb`,
      {
        subnetIds: publicSubnetIds,
        securityGroups: [albSg.id],
        // WebSockets sit idle between heartbeats; the ALB must not cut them first.
        idleTimeout: a.albIdleTimeoutSeconds,
        dropInvalidHeaderFields: true,
        desyncMitigationMode: "defensive",
        enableDeletionProtection: a.deletionProtection,
        defaultTargetGroup: {
          port: a.port,
          protocol: "HTTP",
          targetType: "ip",
          // Long enough for the gateway to notice the missing health checks and close every socket with 1001
          // before the ALB would cut them; ECS sends SIGTERM only after this (or once no connection is left).
          deregistrationDelay: deregistrationDelaySeconds(),
          healthCheck,
        },
        listeners: a.certificateArn
          ? [
              {
                port: 80,
                protocol: "HTTP",
                defaultActions: [
                  { type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } },
                ],
              },
              {
                port: 443,
                protocol: "HTTPS",
                certificateArn: a.certificateArn,
                sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
              },
            ]
          : [{ port: 80, protocol: "HTTP" }],
        tags,
      },
      { parent: this },
    );
    const dnsName = alb.loadBalancer.apply((lb) => lb.dnsName);
    const targetGroupArn = alb.defaultTargetGroup.apply((tg) => tg.arn);
    this.loadBalancerArnSuffix = alb.loadBalancer.apply((lb) => lb.arnSuffix);
    this.targetGroupArnSuffix = alb.defaultTargetGroup.apply((tg) => tg.arnSuffix);
    const origin: pulumi.Output<string> = a.publicOrigin
      ? pulumi.output(a.publicOrigin)
      : pulumi.interpolate`http://${dnsName}`;
    this.url = origin;
    this.wsUrl = origin.apply((o) => `${o.replace(/^http/, "ws")}/ws`);

    // ---- image
    if (a.image !== undefined) {
      this.imageUri = pulumi.output(a.image);
    } else {
      const repo = new awsx.ecr.Repository(
        `${name}-repo`,
        {
          name: `${args.namePrefix}-gateway`,
          forceDelete: !a.deletionProtection,
          imageScanningConfiguration: { scanOnPush: true },
          // A tag names one image forever: what a task definition points at cannot change under it.
          imageTagMutability: "IMMUTABLE",
          lifecyclePolicy: {
            rules: [
              {
                description: `keep the last ${GATEWAY_IMAGES_KEPT} images`,
                tagStatus: "any",
                maximumNumberOfImages: GATEWAY_IMAGES_KEPT,
              },
            ],
          },
          tags,
        },
        { parent: this },
      );
      const image = new awsx.ecr.Image(
        `${name}-image`,
        {
          repositoryUrl: repo.url,
          context: a.dockerContext,
          dockerfile: path.join(a.dockerContext, "Dockerfile"),
          // Unique per content (tags are immutable); the same when nothing changed, so `up` shows no diff.
          imageTag: buildContextTag(a.dockerContext),
          platform: "linux/amd64",
        },
        { parent: this },
      );
      this.imageUri = image.imageUri;
    }

    // ---- secrets: injected by the ECS agent, never in the plain environment
    const secretArn = (label: string, existing: string | undefined): pulumi.Input<string> => {
      if (existing) return existing;
      const secret = new aws.secretsmanager.Secret(
        `${name}-${label}`,
        // Force delete: a recovery window keeps the name taken after `destroy`, so the next `up` with this
        // prefix would fail for days. The value is generated, so there is nothing worth recovering.
        { name: `${args.namePrefix}/${label}`, recoveryWindowInDays: 0, tags },
        { parent: this },
      );
      const generated = aws.secretsmanager.getRandomPasswordOutput(
        { passwordLength: 64, excludePunctuation: true },
        { parent: this },
      ).randomPassword;
      new aws.secretsmanager.SecretVersion(
        `${name}-${label}-value`,
        { secretId: secret.id, secretString: pulumi.secret(generated) },
        // Generated once: a fresh value on every `pulumi up` would log everyone out and split the fleet.
        { parent: this, ignoreChanges: ["secretString"] },
      );
      return secret.arn;
    };
    const secretArns: Record<(typeof gatewaySecretEnvVars)[number], pulumi.Input<string>> = {
      [env.jwtSecret]: secretArn("jwt-secret", a.jwtSecretArn),
      [env.internalSecret]: secretArn("internal-secret", a.internalSecretArn),
    };

    // ---- roles
    const executionRole = new aws.iam.Role(
      `${name}-execution-role`,
      {
        name: region.apply((r) => iamRoleName(args.namePrefix, "gateway-exec", r)),
        assumeRolePolicy: assumeRolePolicyDocument("ecs-tasks.amazonaws.com"),
        tags,
      },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-execution-managed`,
      { role: executionRole.name, policyArn: aws.iam.ManagedPolicy.AmazonECSTaskExecutionRolePolicy },
      { parent: this },
    );
    const executionSecretsPolicy = new aws.iam.RolePolicy(
      `${name}-execution-secrets`,
      {
        role: executionRole.id,
        policy: pulumi.all(Object.values(secretArns)).apply((arns) => JSON.stringify(secretsReadPolicyDocument(arns))),
      },
      { parent: this },
    );
    const taskRole = new aws.iam.Role(
      `${name}-task-role`,
      {
        name: region.apply((r) => iamRoleName(args.namePrefix, "gateway-task", r)),
        assumeRolePolicy: assumeRolePolicyDocument("ecs-tasks.amazonaws.com"),
        tags,
      },
      { parent: this },
    );
    const taskPolicy = new aws.iam.RolePolicy(
      `${name}-task-policy`,
      { role: taskRole.id, policy: taskPolicyDocument.apply((doc) => JSON.stringify(doc)) },
      { parent: this },
    );

    // ---- service
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/parley/${args.namePrefix}/gateway`, retentionInDays: a.logRetentionDays, tags },
      { parent: this },
    );
    const cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      { name: `${args.namePrefix}`, settings: [{ name: "containerInsights", value: "enabled" }], tags },
      { parent: this },
    );
    const serviceName = `${args.namePrefix}-gateway`;

    const environment: { name: string; value: pulumi.Input<string> }[] = [
      { name: env.region, value: region },
      { name: env.port, value: String(a.port) },
      { name: env.internalPort, value: String(a.internalPort) },
      { name: env.allowedOrigins, value: origin },
      { name: env.webDir, value: GATEWAY_WEB_DIR },
      { name: env.logLevel, value: a.logLevel },
      { name: env.heartbeatMs, value: String(a.heartbeatMs) },
      // The same value as the ALB's idle timeout: the gateway keeps idle connections open longer.
      { name: env.albIdleTimeoutSeconds, value: String(a.albIdleTimeoutSeconds) },
      { name: queues.inbound.envVar, value: args.inboundQueue.url },
      { name: queues.notify.envVar, value: args.notifyQueue.url },
      ...gatewayTables.map((key) => ({ name: tables[key].envVar, value: args.tables[key].name })),
    ];

    const service = new awsx.ecs.FargateService(
      `${name}-service`,
      {
        name: serviceName,
        cluster: cluster.arn,
        desiredCount: a.desiredCount,
        networkConfiguration: {
          subnets: taskSubnetIds,
          // Only when there is no NAT path: tasks then need a public IP to reach ECR and the AWS APIs.
          assignPublicIp: !privateTasks,
          securityGroups: [taskSg.id],
        },
        loadBalancers: [{ targetGroupArn, containerName: GATEWAY_CONTAINER_NAME, containerPort: a.port }],
        healthCheckGracePeriodSeconds: 30,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        enableExecuteCommand: false,
        propagateTags: "SERVICE",
        taskDefinitionArgs: {
          family: serviceName,
          cpu: String(a.cpu),
          memory: String(a.memoryMb),
          runtimePlatform: { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" },
          executionRole: { roleArn: executionRole.arn },
          taskRole: { roleArn: taskRole.arn },
          logGroup: { skip: true },
          // The root filesystem is read-only; /tmp is a bind mount, writable by uid 1000 because the
          // Dockerfile declares it as a VOLUME owned by that user (a bare bind mount is root's, 0755).
          volumes: [{ name: "tmp" }],
          container: {
            name: GATEWAY_CONTAINER_NAME,
            image: this.imageUri,
            essential: true,
            user: GATEWAY_CONTAINER_USER,
            privileged: false,
            readonlyRootFilesystem: true,
            mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
            linuxParameters: { initProcessEnabled: true },
            portMappings: [
              { name: "public", containerPort: a.port, hostPort: a.port, protocol: "tcp" },
              { name: "internal", containerPort: a.internalPort, hostPort: a.internalPort, protocol: "tcp" },
            ],
            environment,
            secrets: gatewaySecretEnvVars.map((n) => ({ name: n, valueFrom: secretArns[n] })),
            // No container health check: the ALB target health check already makes ECS replace a task that
            // stops answering, and a container check would start a second process in the task every interval.
            // SIGTERM comes after the drain; what remains closes at once, then the gateway exits (main.ts).
            stopTimeout: 30,
            logConfiguration: {
              logDriver: "awslogs",
              options: { "awslogs-group": logGroup.name, "awslogs-region": region, "awslogs-stream-prefix": "gateway" },
            },
          },
        },
        tags,
      },
      {
        parent: this,
        dependsOn: [executionSecretsPolicy, taskPolicy],
        // Autoscaling owns the count after the first deploy; desiredCount only seeds it.
        ignoreChanges: ["desiredCount"],
        transforms: [ignoreAutoscaledDesiredCount],
      },
    );

    // ---- autoscaling on CPU and on requests per task
    const scaling = new aws.appautoscaling.Target(
      `${name}-scaling`,
      {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: pulumi.interpolate`${cluster.name}`.apply((c) => ecsServiceResourceId(c, serviceName)),
        minCapacity: a.minCount,
        maxCapacity: a.maxCount,
      },
      { parent: this, dependsOn: [service] },
    );
    // Scale in slowly: each removed task drops its sockets and those clients reconnect.
    const scaleCooldowns = { scaleInCooldown: 300, scaleOutCooldown: 60 };
    new aws.appautoscaling.Policy(
      `${name}-scale-cpu`,
      {
        policyType: "TargetTrackingScaling",
        serviceNamespace: scaling.serviceNamespace,
        scalableDimension: scaling.scalableDimension,
        resourceId: scaling.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: a.cpuTargetPercent,
          predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
          ...scaleCooldowns,
        },
      },
      { parent: this },
    );
    new aws.appautoscaling.Policy(
      `${name}-scale-requests`,
      {
        policyType: "TargetTrackingScaling",
        serviceNamespace: scaling.serviceNamespace,
        scalableDimension: scaling.scalableDimension,
        resourceId: scaling.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: a.requestsPerTarget,
          predefinedMetricSpecification: {
            predefinedMetricType: "ALBRequestCountPerTarget",
            resourceLabel: pulumi
              .all([this.loadBalancerArnSuffix, this.targetGroupArnSuffix])
              .apply(([lb, tg]) => albRequestCountLabel(lb, tg)),
          },
          ...scaleCooldowns,
        },
      },
      { parent: this },
    );

    this.clusterName = cluster.name;
    this.serviceName = pulumi.output(serviceName);

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
