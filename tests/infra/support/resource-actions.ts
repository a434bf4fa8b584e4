/**
 * The IAM actions `pulumi up` / `pulumi destroy` need per resource type the program declares: create, read
 * (refresh and diff), update, delete, and the tagging calls a create with tags makes. The deployer-policy
 * test maps every recorded type through this table and checks each action against docs/deployer-policy.json.
 *
 * awsx components are remote under mocks, so their children are listed here from awsx's source
 * (pulumi/pulumi-awsx v3: ecs/fargateService.ts, ecs/fargateTaskDefinition.ts, lb/applicationLoadBalancer.ts,
 * ec2/vpc.ts, ecr/repository.ts, ecr/image.ts) for the arguments this program passes: the FargateService gets
 * its roles, security groups and subnets (so it creates only a task definition and a service, no roles, log
 * group or default security group), the ALB gets subnets and security groups (no default security group),
 * the Vpc creates subnets, route tables, routes, an internet gateway, NAT gateways and their EIPs.
 */
import { ACCOUNT, REGION, type Recorded } from "../mocks";

export interface TypeActions {
  /** Actions on the resource itself. With `arn`, each must be allowed on that ARN. */
  readonly actions: readonly string[];
  /** The ARN of the resource, from its recorded inputs: for types the policy scopes by name prefix. */
  readonly arn?: (r: Recorded) => string;
  /** Actions on other resources or `*` (lookups, iam:PassRole, service-linked roles): checked by action only. */
  readonly related?: readonly string[];
  /** A remote (awsx) component: the child types it creates, each in this table, with their ARN when scoped. */
  readonly children?: readonly { readonly type: string; readonly arn?: (component: Recorded) => string }[];
}

const arn = (service: string, resource: string, region = REGION) =>
  `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
/** Pulumi auto-names a resource without an explicit name `<logical name>-<7 random chars>`. */
const autoName = (r: Recorded) => `${r.name}-a1b2c3d`;
const ecrRepoName = (repositoryUrl: string) => repositoryUrl.slice(repositoryUrl.indexOf("/") + 1);

/** Creating an ECS service, an ALB or a scalable target in a fresh account creates the service's linked role. */
const serviceLinkedRole = "iam:CreateServiceLinkedRole";

const ec2Tags = ["ec2:CreateTags", "ec2:DeleteTags", "ec2:DescribeTags"];
const elbTags = [
  "elasticloadbalancing:AddTags",
  "elasticloadbalancing:RemoveTags",
  "elasticloadbalancing:DescribeTags",
];
const ecsTags = ["ecs:TagResource", "ecs:UntagResource", "ecs:ListTagsForResource"];
/** Target tracking policies create and delete their own CloudWatch alarms (TargetTracking-…) as the caller. */
const targetTrackingAlarms = ["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"];

export const resourceActions: Record<string, TypeActions> = {
  // ---- this program's own components: no AWS calls of their own
  "parley:queues:QueueWithDlq": { actions: [] },
  "parley:tables:Tables": { actions: [] },
  "parley:persister:Persister": { actions: [] },
  "parley:gateway:GatewayService": { actions: [] },
  "parley:monitoring:Alerts": { actions: [] },
  "parley:monitoring:Monitoring": { actions: [] },
  "parley:network:Network": { actions: [] },
  "parley:network:VpcEndpoints": { actions: [] },

  // ---- SQS
  "aws:sqs/queue:Queue": {
    actions: [
      "sqs:CreateQueue",
      "sqs:GetQueueUrl",
      "sqs:GetQueueAttributes",
      "sqs:SetQueueAttributes",
      "sqs:DeleteQueue",
      "sqs:TagQueue",
      "sqs:UntagQueue",
      "sqs:ListQueueTags",
    ],
    arn: (r) => arn("sqs", r.inputs.name),
  },
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": {
    actions: ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes"],
    arn: (r) => arn("sqs", String(r.inputs.queueUrl).split("/").pop()!),
  },

  // ---- DynamoDB
  "aws:dynamodb/table:Table": {
    actions: [
      "dynamodb:CreateTable",
      "dynamodb:DescribeTable",
      "dynamodb:UpdateTable",
      "dynamodb:DeleteTable",
      "dynamodb:DescribeContinuousBackups",
      "dynamodb:UpdateContinuousBackups",
      "dynamodb:DescribeTimeToLive",
      "dynamodb:UpdateTimeToLive",
      "dynamodb:TagResource",
      "dynamodb:UntagResource",
      "dynamodb:ListTagsOfResource",
    ],
    arn: (r) => arn("dynamodb", `table/${r.inputs.name}`),
  },

  // ---- IAM
  "aws:iam/role:Role": {
    actions: [
      "iam:CreateRole",
      "iam:GetRole",
      "iam:UpdateRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:DeleteRole",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:ListRoleTags",
      // Read and delete list what is attached, so destroy can detach it first.
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
    ],
    arn: (r) => roleArn(r.inputs.name),
  },
  "aws:iam/rolePolicy:RolePolicy": {
    actions: ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
    arn: (r) => roleArn(r.inputs.role),
  },
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
    actions: ["iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"],
    arn: (r) => roleArn(r.inputs.role),
  },

  // ---- Lambda
  "aws:lambda/function:Function": {
    actions: [
      "lambda:CreateFunction",
      "lambda:GetFunction",
      "lambda:GetFunctionConfiguration",
      "lambda:GetFunctionCodeSigningConfig",
      "lambda:GetRuntimeManagementConfig",
      "lambda:ListVersionsByFunction",
      "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration",
      "lambda:DeleteFunction",
      "lambda:TagResource",
      "lambda:UntagResource",
      "lambda:ListTags",
    ],
    arn: (r) => arn("lambda", `function:${r.inputs.name}`),
    related: ["iam:PassRole"],
  },
  "aws:lambda/eventSourceMapping:EventSourceMapping": {
    actions: [
      "lambda:CreateEventSourceMapping",
      "lambda:GetEventSourceMapping",
      "lambda:UpdateEventSourceMapping",
      "lambda:DeleteEventSourceMapping",
      "lambda:ListEventSourceMappings",
    ],
  },

  // ---- CloudWatch
  "aws:cloudwatch/logGroup:LogGroup": {
    actions: [
      "logs:CreateLogGroup",
      "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy",
      "logs:DeleteLogGroup",
      "logs:TagResource",
      "logs:UntagResource",
      "logs:ListTagsForResource",
    ],
    arn: (r) => arn("logs", `log-group:${r.inputs.name}`),
    related: ["logs:DescribeLogGroups"],
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    actions: [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:DeleteAlarms",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
      "cloudwatch:ListTagsForResource",
    ],
    arn: (r) => arn("cloudwatch", `alarm:${r.inputs.name ?? autoName(r)}`),
  },
  "aws:cloudwatch/dashboard:Dashboard": {
    actions: ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"],
    // Dashboards are global: no region in the ARN.
    arn: (r) => arn("cloudwatch", `dashboard/${r.inputs.dashboardName}`, ""),
  },

  // ---- SNS
  "aws:sns/topic:Topic": {
    actions: [
      "sns:CreateTopic",
      "sns:GetTopicAttributes",
      "sns:SetTopicAttributes",
      "sns:DeleteTopic",
      "sns:TagResource",
      "sns:UntagResource",
      "sns:ListTagsForResource",
    ],
    arn: (r) => arn("sns", r.inputs.name),
  },
  "aws:sns/topicSubscription:TopicSubscription": {
    actions: [
      "sns:Subscribe",
      "sns:Unsubscribe",
      "sns:GetSubscriptionAttributes",
      "sns:SetSubscriptionAttributes",
      "sns:ListSubscriptionsByTopic",
    ],
    // A subscription's ARN is its topic's ARN plus an id.
    arn: (r) => `${r.inputs.topic}:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`,
  },

  // ---- Secrets Manager (only when the stack generates the secrets)
  "aws:secretsmanager/secret:Secret": {
    actions: [
      "secretsmanager:CreateSecret",
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetResourcePolicy",
      "secretsmanager:UpdateSecret",
      "secretsmanager:DeleteSecret",
      "secretsmanager:TagResource",
      "secretsmanager:UntagResource",
    ],
    arn: (r) => arn("secretsmanager", `secret:${r.inputs.name}-AbCdEf`),
  },
  "aws:secretsmanager/secretVersion:SecretVersion": {
    // Refreshing a version reads its value: the one data action the deployer needs, on its own secrets only.
    actions: [
      "secretsmanager:PutSecretValue",
      "secretsmanager:GetSecretValue",
      "secretsmanager:DescribeSecret",
      "secretsmanager:ListSecretVersionIds",
      "secretsmanager:UpdateSecretVersionStage",
    ],
    arn: (r) => r.inputs.secretId,
  },

  // ---- EC2 security groups (IDs are random: EC2 actions are not scoped by name)
  "aws:ec2/securityGroup:SecurityGroup": {
    actions: [
      "ec2:CreateSecurityGroup",
      "ec2:DescribeSecurityGroups",
      // A new group's default allow-all egress rule is revoked, and ENIs are awaited before delete.
      "ec2:RevokeSecurityGroupEgress",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DeleteSecurityGroup",
      ...ec2Tags,
    ],
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
    actions: [
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:DescribeSecurityGroupRules",
      "ec2:ModifySecurityGroupRules",
      "ec2:RevokeSecurityGroupIngress",
      ...ec2Tags,
    ],
  },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
    actions: [
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:DescribeSecurityGroupRules",
      "ec2:ModifySecurityGroupRules",
      "ec2:RevokeSecurityGroupEgress",
      ...ec2Tags,
    ],
  },
  "aws:ec2/vpcEndpoint:VpcEndpoint": {
    actions: [
      "ec2:CreateVpcEndpoint",
      "ec2:DescribeVpcEndpoints",
      "ec2:DescribeVpcEndpointServices",
      "ec2:DescribePrefixLists",
      "ec2:ModifyVpcEndpoint",
      "ec2:DeleteVpcEndpoints",
      ...ec2Tags,
    ],
  },

  // ---- awsx.ec2.Vpc and its children
  "awsx:ec2:Vpc": {
    actions: [],
    // numberOfAvailabilityZones: the component looks the zones up.
    related: ["ec2:DescribeAvailabilityZones"],
    children: [
      { type: "aws:ec2/vpc:Vpc" },
      { type: "aws:ec2/subnet:Subnet" },
      { type: "aws:ec2/routeTable:RouteTable" },
      { type: "aws:ec2/routeTableAssociation:RouteTableAssociation" },
      { type: "aws:ec2/route:Route" },
      { type: "aws:ec2/internetGateway:InternetGateway" },
      { type: "aws:ec2/natGateway:NatGateway" },
      { type: "aws:ec2/eip:Eip" },
      { type: "aws:ec2/vpcEndpoint:VpcEndpoint" },
    ],
  },
  "aws:ec2/vpc:Vpc": {
    actions: [
      "ec2:CreateVpc",
      "ec2:DescribeVpcs",
      "ec2:DescribeVpcAttribute",
      "ec2:ModifyVpcAttribute",
      // Read reports the VPC's default route table, network ACL and security group.
      "ec2:DescribeRouteTables",
      "ec2:DescribeNetworkAcls",
      "ec2:DescribeSecurityGroups",
      "ec2:DeleteVpc",
      ...ec2Tags,
    ],
  },
  "aws:ec2/subnet:Subnet": {
    actions: ["ec2:CreateSubnet", "ec2:DescribeSubnets", "ec2:ModifySubnetAttribute", "ec2:DeleteSubnet", ...ec2Tags],
  },
  "aws:ec2/routeTable:RouteTable": {
    actions: ["ec2:CreateRouteTable", "ec2:DescribeRouteTables", "ec2:DeleteRouteTable", ...ec2Tags],
  },
  "aws:ec2/routeTableAssociation:RouteTableAssociation": {
    actions: ["ec2:AssociateRouteTable", "ec2:DescribeRouteTables", "ec2:DisassociateRouteTable"],
  },
  "aws:ec2/route:Route": {
    actions: ["ec2:CreateRoute", "ec2:DescribeRouteTables", "ec2:ReplaceRoute", "ec2:DeleteRoute"],
  },
  "aws:ec2/internetGateway:InternetGateway": {
    actions: [
      "ec2:CreateInternetGateway",
      "ec2:AttachInternetGateway",
      "ec2:DescribeInternetGateways",
      "ec2:DetachInternetGateway",
      "ec2:DeleteInternetGateway",
      ...ec2Tags,
    ],
  },
  "aws:ec2/natGateway:NatGateway": {
    actions: ["ec2:CreateNatGateway", "ec2:DescribeNatGateways", "ec2:DeleteNatGateway", ...ec2Tags],
  },
  "aws:ec2/eip:Eip": {
    actions: [
      "ec2:AllocateAddress",
      "ec2:DescribeAddresses",
      "ec2:DescribeAddressesAttribute",
      "ec2:DescribeAccountAttributes",
      "ec2:DisassociateAddress",
      "ec2:ReleaseAddress",
      ...ec2Tags,
    ],
  },

  // ---- awsx.lb.ApplicationLoadBalancer and its children
  "awsx:lb:ApplicationLoadBalancer": {
    actions: [],
    // subnetIds: the component looks up the first subnet for the VPC id of the target group.
    related: ["ec2:DescribeSubnets", serviceLinkedRole],
    children: [
      {
        type: "aws:lb/loadBalancer:LoadBalancer",
        arn: (c) => arn("elasticloadbalancing", `loadbalancer/app/${autoName(c)}/50dc6c495c0c9188`),
      },
      {
        type: "aws:lb/targetGroup:TargetGroup",
        arn: (c) => arn("elasticloadbalancing", `targetgroup/${autoName(c)}/73e2d6bc24d8a067`),
      },
      {
        type: "aws:lb/listener:Listener",
        arn: (c) => arn("elasticloadbalancing", `listener/app/${autoName(c)}/50dc6c495c0c9188/f2f7dc8efc522ab2`),
      },
    ],
  },
  "aws:lb/loadBalancer:LoadBalancer": {
    actions: [
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeLoadBalancerAttributes",
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
      "elasticloadbalancing:SetIpAddressType",
      "elasticloadbalancing:DeleteLoadBalancer",
      ...elbTags,
    ],
  },
  "aws:lb/targetGroup:TargetGroup": {
    actions: [
      "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:DeleteTargetGroup",
      ...elbTags,
    ],
  },
  "aws:lb/listener:Listener": {
    actions: [
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeListenerAttributes",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:ModifyListenerAttributes",
      "elasticloadbalancing:DeleteListener",
      ...elbTags,
    ],
  },

  // ---- ECS
  "aws:ecs/cluster:Cluster": {
    actions: [
      "ecs:CreateCluster",
      "ecs:DescribeClusters",
      "ecs:UpdateCluster",
      "ecs:UpdateClusterSettings",
      "ecs:DeleteCluster",
      ...ecsTags,
    ],
    arn: (r) => arn("ecs", `cluster/${r.inputs.name}`),
    related: [serviceLinkedRole],
  },
  "awsx:ecs:FargateService": {
    actions: [],
    related: ["iam:PassRole", serviceLinkedRole],
    children: [
      {
        type: "aws:ecs/taskDefinition:TaskDefinition",
        arn: (c) => arn("ecs", `task-definition/${c.inputs.taskDefinitionArgs.family}:1`),
      },
      {
        type: "aws:ecs/service:Service",
        arn: (c) => arn("ecs", `service/${String(c.inputs.cluster).split("/").pop()}/${c.inputs.name}`),
      },
    ],
  },
  "aws:ecs/taskDefinition:TaskDefinition": {
    actions: [
      "ecs:RegisterTaskDefinition",
      "ecs:DescribeTaskDefinition",
      "ecs:DeregisterTaskDefinition",
      "ecs:DeleteTaskDefinitions",
      "ecs:TagResource",
    ],
  },
  "aws:ecs/service:Service": {
    // Waiting for steady state polls DescribeServices.
    actions: ["ecs:CreateService", "ecs:DescribeServices", "ecs:UpdateService", "ecs:DeleteService", ...ecsTags],
  },

  // ---- Application Auto Scaling (no resource-level scoping for these calls)
  "aws:appautoscaling/target:Target": {
    actions: [
      "application-autoscaling:RegisterScalableTarget",
      "application-autoscaling:DescribeScalableTargets",
      "application-autoscaling:DeregisterScalableTarget",
      "application-autoscaling:TagResource",
      "application-autoscaling:UntagResource",
      "application-autoscaling:ListTagsForResource",
    ],
    // Registering an ECS target checks the service as the caller.
    related: [serviceLinkedRole, "ecs:DescribeServices", "ecs:UpdateService"],
  },
  "aws:appautoscaling/policy:Policy": {
    actions: [
      "application-autoscaling:PutScalingPolicy",
      "application-autoscaling:DescribeScalingPolicies",
      "application-autoscaling:DeleteScalingPolicy",
    ],
    related: targetTrackingAlarms,
  },

  // ---- ECR: awsx.ecr.Repository (repository + lifecycle policy) and awsx.ecr.Image (docker-build push)
  "awsx:ecr:Repository": {
    actions: [],
    children: [
      { type: "aws:ecr/repository:Repository", arn: (c) => arn("ecr", `repository/${c.inputs.name}`) },
      { type: "aws:ecr/lifecyclePolicy:LifecyclePolicy", arn: (c) => arn("ecr", `repository/${c.inputs.name}`) },
    ],
  },
  "aws:ecr/repository:Repository": {
    actions: [
      "ecr:CreateRepository",
      "ecr:DescribeRepositories",
      "ecr:PutImageScanningConfiguration",
      "ecr:PutImageTagMutability",
      "ecr:DeleteRepository",
      "ecr:TagResource",
      "ecr:UntagResource",
      "ecr:ListTagsForResource",
    ],
  },
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": {
    actions: ["ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy"],
  },
  "awsx:ecr:Image": {
    actions: [],
    // aws.ecr.getCredentials for the registry login.
    related: ["ecr:GetAuthorizationToken"],
    children: [
      {
        type: "docker-build:index:Image",
        arn: (c) => arn("ecr", `repository/${ecrRepoName(String(c.inputs.repositoryUrl))}`),
      },
    ],
  },
  "docker-build:index:Image": {
    // Push, plus the inline cache the component reads back (cacheFrom the same tag).
    actions: [
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ],
  },
};

/** Provider functions the program invokes itself, by token. */
export const invokeActions: Record<string, readonly string[]> = {
  // Answered from the provider's own configuration, no AWS call.
  "aws:index/getRegion:getRegion": [],
  "aws:secretsmanager/getRandomPassword:getRandomPassword": ["secretsmanager:GetRandomPassword"],
  "aws:index/getCallerIdentity:getCallerIdentity": [],
  "aws:ec2/getAvailabilityZones:getAvailabilityZones": ["ec2:DescribeAvailabilityZones"],
  "aws:ec2/getRouteTables:getRouteTables": ["ec2:DescribeRouteTables"],
};
