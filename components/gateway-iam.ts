/**
 * The gateway's identities: its two secrets (an existing ARN, or a Secrets Manager secret with a value generated
 * once), the execution role the ECS agent uses to pull the image and inject those secrets, and the task role
 * with the gateway's least-privilege policy. Declared as children of the GatewayService.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { env, gatewayTables, type gatewaySecretEnvVars } from "../runtime/contracts";
import {
  assumeRolePolicyDocument,
  gatewayTaskPolicyDocument,
  iamRoleName,
  secretsReadPolicyDocument,
  type PolicyDocument,
} from "./policies";
import { tableArnsOf } from "./refs";
import type { GatewayTableKey, QueueRef, TableRef, Tags } from "./types";

export type GatewaySecretEnvVar = (typeof gatewaySecretEnvVars)[number];

/** The task role's policy: enqueue inbound, poll notify, the gateway's tables (also the endpoints' policies). */
export function gatewayTaskPolicy(
  inboundQueue: QueueRef,
  notifyQueue: QueueRef,
  tables: Readonly<Record<GatewayTableKey, TableRef>>,
): pulumi.Output<PolicyDocument> {
  return pulumi
    .all([inboundQueue.arn, notifyQueue.arn, tableArnsOf(gatewayTables, tables)])
    .apply(([inboundQueueArn, notifyQueueArn, tableArns]) =>
      gatewayTaskPolicyDocument({ inboundQueueArn, notifyQueueArn, tableArns }),
    );
}

export interface GatewayIamArgs {
  readonly namePrefix: string;
  readonly region: pulumi.Input<string>;
  readonly jwtSecretArn?: string;
  readonly internalSecretArn?: string;
  readonly taskPolicy: pulumi.Output<PolicyDocument>;
  readonly tags?: Tags;
}

export interface GatewayIam {
  /** Each secret env var's ARN, for the container's `secrets`. */
  readonly secretArns: Readonly<Record<GatewaySecretEnvVar, pulumi.Input<string>>>;
  readonly executionRoleArn: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  /** The service waits for these: a task started before them could not read its secrets or its tables. */
  readonly policies: readonly pulumi.Resource[];
}

export function gatewayIam(name: string, a: GatewayIamArgs, parent: pulumi.Resource): GatewayIam {
  const tags = a.tags;
  // Secrets are injected by the ECS agent, never in the plain environment.
  const secretArn = (label: string, existing: string | undefined): pulumi.Input<string> => {
    if (existing) return existing;
    const secret = new aws.secretsmanager.Secret(
      `${name}-${label}`,
      // Force delete: a recovery window keeps the name taken after `destroy`, so the next `up` with this
      // prefix would fail for days. The value is generated, so there is nothing worth recovering.
      { name: `${a.namePrefix}/${label}`, recoveryWindowInDays: 0, tags },
      { parent },
    );
    const generated = aws.secretsmanager.getRandomPasswordOutput(
      { passwordLength: 64, excludePunctuation: true },
      { parent },
    ).randomPassword;
    new aws.secretsmanager.SecretVersion(
      `${name}-${label}-value`,
      { secretId: secret.id, secretString: pulumi.secret(generated) },
      // Generated once: a fresh value on every `pulumi up` would log everyone out and split the fleet.
      { parent, ignoreChanges: ["secretString"] },
    );
    return secret.arn;
  };
  const secretArns: Record<GatewaySecretEnvVar, pulumi.Input<string>> = {
    [env.jwtSecret]: secretArn("jwt-secret", a.jwtSecretArn),
    [env.internalSecret]: secretArn("internal-secret", a.internalSecretArn),
  };

  const role = (suffix: string, purpose: string) =>
    new aws.iam.Role(
      `${name}-${suffix}`,
      {
        name: pulumi.output(a.region).apply((r) => iamRoleName(a.namePrefix, purpose, r)),
        assumeRolePolicy: assumeRolePolicyDocument("ecs-tasks.amazonaws.com"),
        tags,
      },
      { parent },
    );
  const executionRole = role("execution-role", "gateway-exec");
  new aws.iam.RolePolicyAttachment(
    `${name}-execution-managed`,
    { role: executionRole.name, policyArn: aws.iam.ManagedPolicy.AmazonECSTaskExecutionRolePolicy },
    { parent },
  );
  const executionSecretsPolicy = new aws.iam.RolePolicy(
    `${name}-execution-secrets`,
    {
      role: executionRole.id,
      policy: pulumi.all(Object.values(secretArns)).apply((arns) => JSON.stringify(secretsReadPolicyDocument(arns))),
    },
    { parent },
  );
  const taskRole = role("task-role", "gateway-task");
  const taskPolicy = new aws.iam.RolePolicy(
    `${name}-task-policy`,
    { role: taskRole.id, policy: a.taskPolicy.apply((doc) => JSON.stringify(doc)) },
    { parent },
  );
  return {
    secretArns,
    executionRoleArn: executionRole.arn,
    taskRoleArn: taskRole.arn,
    policies: [executionSecretsPolicy, taskPolicy],
  };
}
