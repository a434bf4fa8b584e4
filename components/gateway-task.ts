/**
 * Where the gateway container runs: the ECS cluster, its log group, and the awsx FargateService with its task
 * definition — non-root, read-only root filesystem, the plain env from runtime/contracts (settings the stack
 * config chose, queue URLs, table names), secrets injected by ECS, private subnets without public IPs when there
 * is NAT. Declared as children of the GatewayService.
 */
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { env, gatewaySecretEnvVars, gatewayTables, queues, tables } from "../runtime/contracts";
import type { GatewaySecretEnvVar } from "./gateway-iam";
import type { ResolvedGatewayServiceArgs } from "./gateway-service-args";
import { ignoreAutoscaledDesiredCount } from "./ecs-names";

/** Container user: the `node` user of the official Node image, never root. */
export const GATEWAY_CONTAINER_USER = "1000:1000";
/** Where the Dockerfile puts the built web client. */
export const GATEWAY_WEB_DIR = "/app/web";
export const GATEWAY_CONTAINER_NAME = "gateway";

export interface GatewayTaskArgs {
  readonly service: ResolvedGatewayServiceArgs;
  readonly region: pulumi.Input<string>;
  /** What browsers open: the only origin the gateway accepts. */
  readonly origin: pulumi.Input<string>;
  readonly imageUri: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** No NAT path: the tasks need a public IP to reach ECR and the AWS APIs. */
  readonly assignPublicIp: boolean;
  readonly securityGroupId: pulumi.Input<string>;
  readonly targetGroupArn: pulumi.Input<string>;
  readonly executionRoleArn: pulumi.Input<string>;
  readonly taskRoleArn: pulumi.Input<string>;
  readonly secretArns: Readonly<Record<GatewaySecretEnvVar, pulumi.Input<string>>>;
  /** What the service waits for (the roles' policies). */
  readonly dependsOn: readonly pulumi.Resource[];
}

export interface GatewayTask {
  readonly cluster: aws.ecs.Cluster;
  readonly service: awsx.ecs.FargateService;
  readonly serviceName: string;
}

/** The container's plain environment: the names runtime/contracts/env.ts reads. */
export function gatewayEnvironment(
  a: ResolvedGatewayServiceArgs,
  region: pulumi.Input<string>,
  origin: pulumi.Input<string>,
): { name: string; value: pulumi.Input<string> }[] {
  return [
    { name: env.region, value: region },
    { name: env.port, value: String(a.port) },
    { name: env.internalPort, value: String(a.internalPort) },
    { name: env.allowedOrigins, value: origin },
    { name: env.webDir, value: GATEWAY_WEB_DIR },
    { name: env.logLevel, value: a.logLevel },
    { name: env.heartbeatMs, value: String(a.heartbeatMs) },
    // The same value as the ALB's idle timeout: the gateway keeps idle connections open longer.
    { name: env.albIdleTimeoutSeconds, value: String(a.albIdleTimeoutSeconds) },
    // The persister gets the same value (components/persister.ts): both check an edit against the window.
    { name: env.editWindowSeconds, value: String(a.editWindowSeconds) },
    { name: queues.inbound.envVar, value: a.inboundQueue.url },
    { name: queues.notify.envVar, value: a.notifyQueue.url },
    ...gatewayTables.map((key) => ({ name: tables[key].envVar, value: a.tables[key].name })),
  ];
}

export function gatewayTask(name: string, t: GatewayTaskArgs, parent: pulumi.Resource): GatewayTask {
  const a = t.service;
  const tags = a.tags;
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-logs`,
    { name: `/parley/${a.namePrefix}/gateway`, retentionInDays: a.logRetentionDays, tags },
    { parent },
  );
  const cluster = new aws.ecs.Cluster(
    `${name}-cluster`,
    { name: `${a.namePrefix}`, settings: [{ name: "containerInsights", value: "enabled" }], tags },
    { parent },
  );
  const serviceName = `${a.namePrefix}-gateway`;

  const service = new awsx.ecs.FargateService(
    `${name}-service`,
    {
      name: serviceName,
      cluster: cluster.arn,
      desiredCount: a.desiredCount,
      networkConfiguration: {
        subnets: t.subnetIds,
        assignPublicIp: t.assignPublicIp,
        securityGroups: [t.securityGroupId],
      },
      loadBalancers: [
        { targetGroupArn: t.targetGroupArn, containerName: GATEWAY_CONTAINER_NAME, containerPort: a.port },
      ],
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
        executionRole: { roleArn: t.executionRoleArn },
        taskRole: { roleArn: t.taskRoleArn },
        logGroup: { skip: true },
        // The root filesystem is read-only; /tmp is a bind mount, writable by uid 1000 because the
        // Dockerfile declares it as a VOLUME owned by that user (a bare bind mount is root's, 0755).
        volumes: [{ name: "tmp" }],
        container: {
          name: GATEWAY_CONTAINER_NAME,
          image: t.imageUri,
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
          environment: gatewayEnvironment(a, t.region, t.origin),
          secrets: gatewaySecretEnvVars.map((n) => ({ name: n, valueFrom: t.secretArns[n] })),
          // No container health check: the ALB target health check already makes ECS replace a task that
          // stops answering, and a container check would start a second process in the task every interval.
          // SIGTERM comes after the drain; what remains closes at once, then the gateway exits (main.ts).
          stopTimeout: 30,
          logConfiguration: {
            logDriver: "awslogs",
            options: { "awslogs-group": logGroup.name, "awslogs-region": t.region, "awslogs-stream-prefix": "gateway" },
          },
        },
      },
      tags,
    },
    {
      parent,
      dependsOn: [...t.dependsOn],
      // Autoscaling owns the count after the first deploy; desiredCount only seeds it.
      ignoreChanges: ["desiredCount"],
      transforms: [ignoreAutoscaledDesiredCount],
    },
  );
  return { cluster, service, serviceName };
}
