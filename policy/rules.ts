/**
 * The rules of the Parley policy pack: the AWS Security Hub FSBP controls the program is built to pass, and
 * this project's own (HTTPS unless a stack opts out, no data action on `*`). Importing this module starts
 * nothing; policy/index.ts hands `policies` to a PolicyPack.
 *
 * Each rule checks the AWS resources a deploy creates, including the children of the awsx components
 * (their load balancer, listeners, task definition and service). It also checks the awsx components' own
 * inputs when the engine has them (the mocked program records them); awsx registers its components without
 * inputs, and then the children carry the check. resources.ts maps each check to the resource types that carry
 * its setting; iam.ts reads IAM documents.
 */
import type {
  Policies,
  PolicyConfigSchema,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { isSupportedNodeRuntime } from "../components/policies";
import { BROAD_MANAGED_POLICIES, onPolicyDocument, wildcardProblems } from "./iam";
import { albChecks, containerChecks, listenerChecks, type Check, type Props } from "./resources";

export { normalizePolicyDocument } from "./iam";

interface RuleSpec {
  readonly name: string;
  /** The Security Hub control id, or `Parley.<topic>` for this project's own rules. */
  readonly control: string;
  readonly description: string;
  readonly configSchema?: PolicyConfigSchema;
  /** The check for each resource type the rule applies to. */
  readonly checks: Readonly<Record<string, Check>>;
}

/** Resource types each rule inspects, so a test can show the program really has some of them. */
export const checkedTypes: Record<string, readonly string[]> = {};

function resourceRule(spec: RuleSpec): ResourceValidationPolicy {
  checkedTypes[spec.name] = Object.keys(spec.checks);
  return {
    name: spec.name,
    description: `${spec.control}: ${spec.description}`,
    enforcementLevel: "mandatory",
    ...(spec.configSchema ? { configSchema: spec.configSchema } : {}),
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      const check = spec.checks[args.type];
      if (!check) return;
      for (const problem of check(args.props, args)) reportViolation(`${spec.control}: ${args.name} ${problem}`);
    },
  };
}

// ---- config: the same choices the stack makes with parley:deletionProtection and parley:allowInsecureHttp

const deletionProtectionSchema: PolicyConfigSchema = {
  properties: {
    deletionProtection: {
      type: "boolean",
      default: true,
      description: "Require deletion protection, as parley:deletionProtection does (off only for throwaway stacks).",
    },
  },
};

const requiresDeletionProtection = (args: ResourceValidationArgs) =>
  args.getConfig<{ deletionProtection?: boolean }>().deletionProtection !== false;

const NO_DELETION_PROTECTION =
  "has no deletion protection; set parley:deletionProtection true (a throwaway stack sets this policy's deletionProtection false)";

// ---- the rules

const sqsEncrypted = resourceRule({
  name: "sqs-encrypted-at-rest",
  control: "SQS.1",
  description: "SQS queues are encrypted at rest (SSE-SQS or a KMS key).",
  checks: {
    "aws:sqs/queue:Queue": (p) =>
      p.sqsManagedSseEnabled === true || p.kmsMasterKeyId
        ? []
        : ["is not encrypted at rest; set sqsManagedSseEnabled: true (or kmsMasterKeyId)"],
  },
});

const dynamoPitr = resourceRule({
  name: "dynamodb-point-in-time-recovery",
  control: "DynamoDB.2",
  description: "DynamoDB tables have point-in-time recovery enabled.",
  checks: {
    "aws:dynamodb/table:Table": (p) =>
      p.pointInTimeRecovery?.enabled === true ? [] : ["has no point-in-time recovery; set pointInTimeRecovery.enabled"],
  },
});

const dynamoDeletionProtection = resourceRule({
  name: "dynamodb-deletion-protection",
  control: "DynamoDB.6",
  description: "DynamoDB tables have deletion protection, unless this policy's config sets deletionProtection false.",
  configSchema: deletionProtectionSchema,
  checks: {
    "aws:dynamodb/table:Table": (p, args) =>
      !requiresDeletionProtection(args) || p.deletionProtectionEnabled === true ? [] : [NO_DELETION_PROTECTION],
  },
});

const lambdaRuntime = resourceRule({
  name: "lambda-supported-runtime",
  control: "Lambda.2",
  description: "Lambda functions run a supported runtime: nodejs22.x or newer.",
  checks: {
    "aws:lambda/function:Function": (p, args) => {
      if (p.packageType === "Image") args.notApplicable("container image functions bring their own runtime");
      return isSupportedNodeRuntime(String(p.runtime)) ? [] : [`runs "${p.runtime}"; use nodejs22.x or newer`];
    },
  },
});

const ecsNotPrivileged = resourceRule({
  name: "ecs-no-privileged-containers",
  control: "ECS.4",
  description: "ECS containers do not run privileged.",
  checks: containerChecks((c) => (c.privileged === true ? ["is privileged; set privileged: false"] : [])),
});

const ecsReadOnlyRoot = resourceRule({
  name: "ecs-read-only-root-filesystem",
  control: "ECS.5",
  description: "ECS containers have a read-only root filesystem.",
  checks: containerChecks((c) =>
    c.readonlyRootFilesystem === true ? [] : ["has a writable root filesystem; set readonlyRootFilesystem: true"],
  ),
});

const elbRedirectToHttps = resourceRule({
  name: "elb-http-redirects-to-https",
  control: "ELB.1",
  description:
    "A redirect on an HTTP listener goes to HTTPS. (Whether an HTTP listener must redirect at all is https-unless-allowed.)",
  checks: listenerChecks((l) =>
    l.protocol === "HTTP"
      ? l.defaultActions
          .filter((a) => a.type === "redirect" && a.redirect?.protocol !== "HTTPS")
          .map(() => `${l.label}redirects without protocol HTTPS, so it stays on plain HTTP; set redirect.protocol`)
      : [],
  ),
});

const httpsUnlessAllowed = resourceRule({
  name: "https-unless-allowed",
  control: "Parley.HTTPS",
  description:
    "HTTP listeners redirect to HTTPS; serving plain HTTP needs allowInsecureHttp in this policy's config (throwaway stacks).",
  configSchema: {
    properties: {
      allowInsecureHttp: {
        type: "boolean",
        default: false,
        description: "Accept HTTP listeners that serve instead of redirecting, as parley:allowInsecureHttp does.",
      },
    },
  },
  checks: listenerChecks((l, args) => {
    if (l.protocol !== "HTTP" || l.defaultActions.some((a) => a.type === "redirect")) return [];
    if (args.getConfig<{ allowInsecureHttp?: boolean }>().allowInsecureHttp === true) return [];
    return [
      `${l.label}serves plain HTTP (passwords and tokens in clear text); redirect it to HTTPS with parley:certificateArn, or set allowInsecureHttp in this policy's config for a throwaway stack`,
    ];
  }),
});

const elbDropInvalidHeaders = resourceRule({
  name: "elb-drop-invalid-headers",
  control: "ELB.4",
  description: "Application load balancers drop invalid HTTP header fields.",
  checks: albChecks((alb) =>
    alb.dropInvalidHeaderFields === true ? [] : ["keeps invalid header fields; set dropInvalidHeaderFields: true"],
  ),
});

const elbDeletionProtection = resourceRule({
  name: "elb-deletion-protection",
  control: "ELB.6",
  description:
    "Application load balancers have deletion protection, unless this policy's config sets deletionProtection false.",
  configSchema: deletionProtectionSchema,
  checks: albChecks((alb, args) =>
    !requiresDeletionProtection(args) || alb.enableDeletionProtection === true ? [] : [NO_DELETION_PROTECTION],
  ),
});

const elbDesyncMitigation = resourceRule({
  name: "elb-desync-mitigation",
  control: "ELB.12",
  description: "Application load balancers use desync mitigation mode defensive (the AWS default) or strictest.",
  checks: albChecks((alb) =>
    ["defensive", "strictest"].includes(alb.desyncMitigationMode ?? "defensive")
      ? []
      : [`has desyncMitigationMode "${alb.desyncMitigationMode}"; use defensive or strictest`],
  ),
});

const noWildcardDataActions = resourceRule({
  name: "iam-no-data-actions-on-wildcard",
  control: "Parley.IAM",
  description: "IAM policies grant SQS, DynamoDB, Secrets Manager, SSM, KMS or S3 data actions only on named ARNs.",
  checks: {
    "aws:iam/rolePolicy:RolePolicy": onPolicyDocument,
    "aws:iam/policy:Policy": onPolicyDocument,
    "aws:iam/userPolicy:UserPolicy": onPolicyDocument,
    "aws:iam/groupPolicy:GroupPolicy": onPolicyDocument,
    "aws:iam/role:Role": (p) =>
      (p.inlinePolicies ?? []).flatMap((ip: Props) => wildcardProblems(ip.policy, `inline policy ${ip.name} `)),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (p) => {
      const managed = String(p.policyArn).match(/^arn:aws[a-z-]*:iam::aws:policy\/(.+)$/)?.[1];
      return managed && BROAD_MANAGED_POLICIES.includes(managed)
        ? [`attaches ${managed}, which grants data actions on every resource; write a policy naming the ARNs`]
        : [];
    },
  },
});

// ---- ECS.2 needs the whole stack: whether a public IP is needed depends on whether the stack has NAT

/** Whether the stack gives private subnets a NAT path (a NAT gateway, or an awsx VPC that creates one). */
function createsNat(r: PolicyResource): boolean {
  if (r.type === "aws:ec2/natGateway:NatGateway") return true;
  if (r.type !== "awsx:ec2:Vpc") return false;
  // The awsx VPC's inputs carry a strategy; from the engine its outputs list the NAT gateways it made.
  const nat = r.props.natGateways;
  return Array.isArray(nat) ? nat.length > 0 : typeof nat?.strategy === "string" && nat.strategy !== "None";
}

const ECS_SERVICE_TYPES = ["aws:ecs/service:Service", "awsx:ecs:FargateService", "awsx:ecs:EC2Service"];

const ecsNoPublicIp: StackValidationPolicy = {
  name: "ecs-no-public-ip",
  description:
    "ECS.2: ECS services assign no public IP while the stack has a NAT path. Without one (natGateways None, or an existing VPC without private subnets) a public IP is the tasks' only way to ECR and the AWS APIs, and is accepted.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    if (!args.resources.some(createsNat)) return;
    for (const r of args.resources) {
      if (ECS_SERVICE_TYPES.includes(r.type) && r.props.networkConfiguration?.assignPublicIp === true) {
        reportViolation(
          `ECS.2: ${r.name} assigns public IPs although the stack has NAT gateways; run the tasks in the private subnets`,
          r.urn,
        );
      }
    }
  },
};
checkedTypes[ecsNoPublicIp.name] = ECS_SERVICE_TYPES;

export const policies: Policies = [
  sqsEncrypted,
  dynamoPitr,
  dynamoDeletionProtection,
  lambdaRuntime,
  ecsNoPublicIp,
  ecsNotPrivileged,
  ecsReadOnlyRoot,
  elbRedirectToHttps,
  httpsUnlessAllowed,
  elbDropInvalidHeaders,
  elbDeletionProtection,
  elbDesyncMitigation,
  noWildcardDataActions,
];
