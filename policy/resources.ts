/**
 * Where a setting lives: the AWS resources a deploy creates and the awsx components that create them. Each helper
 * turns one check (of a load balancer, a listener, a container) into the checks for every resource type that
 * carries that setting, so a rule in rules.ts states its condition once.
 */
import type { ResourceValidationArgs } from "@pulumi/policy";

// Resource inputs as the engine hands them: untyped JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Props = Record<string, any>;

/** Problems with one resource, each a sentence that follows the resource's name. */
export type Check = (props: Props, args: ResourceValidationArgs) => string[];

const AWSX_NO_INPUTS = "awsx registers its components without inputs; their AWS children are checked instead";

/** The awsx component's inputs, or "not applicable" when the engine registered it without them. */
export function componentInputs(props: Props, args: ResourceValidationArgs): Props {
  return Object.keys(props).length > 0 ? props : args.notApplicable(AWSX_NO_INPUTS);
}

const LOAD_BALANCER_TYPES = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"];
const AWSX_ALB = "awsx:lb:ApplicationLoadBalancer";

/** The same ALB check on an aws.lb.LoadBalancer (application type) and on the awsx ALB's inputs. */
export function albChecks(check: Check): Record<string, Check> {
  const onLoadBalancer: Check = (p, args) =>
    (p.loadBalancerType ?? "application") === "application" ? check(p, args) : [];
  return {
    ...Object.fromEntries(LOAD_BALANCER_TYPES.map((t) => [t, onLoadBalancer])),
    [AWSX_ALB]: (p, args) => check(componentInputs(p, args), args),
  };
}

interface Listener {
  readonly label: string;
  readonly protocol: string;
  // Listener actions as written: untyped JSON.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly defaultActions: readonly any[];
}

function listenerOf(label: string, l: Props): Listener {
  return { label, protocol: l.protocol ?? "HTTP", defaultActions: l.defaultActions ?? [] };
}

/** The same listener check on an aws.lb.Listener and on each listener of the awsx ALB's inputs. */
export function listenerChecks(check: (l: Listener, args: ResourceValidationArgs) => string[]): Record<string, Check> {
  const onListener: Check = (p, args) => check(listenerOf("", p), args);
  return {
    "aws:lb/listener:Listener": onListener,
    "aws:alb/listener:Listener": onListener,
    [AWSX_ALB]: (p, args) => {
      const inputs = componentInputs(p, args);
      // awsx's default is one HTTP listener on port 80 that forwards to the default target group.
      const listeners: Props[] = inputs.listeners ?? (inputs.listener ? [inputs.listener] : [{ port: 80 }]);
      return listeners.flatMap((l) => check(listenerOf(`listener :${l.port ?? "?"} `, l), args));
    },
  };
}

interface Container {
  readonly name?: string;
  readonly privileged?: boolean;
  readonly readonlyRootFilesystem?: boolean;
}

/** Containers of awsx task definition args: `container` and/or the `containers` map. */
function awsxContainers(taskArgs: Props | undefined): Container[] {
  if (!taskArgs) return [];
  return [...(taskArgs.container ? [taskArgs.container] : []), ...Object.values<Container>(taskArgs.containers ?? {})];
}

/** The same container check on an ECS task definition and on the awsx task definitions and services. */
export function containerChecks(check: (c: Container) => string[]): Record<string, Check> {
  const each = (containers: Container[]) => containers.flatMap((c) => check(c).map((m) => `container ${c.name} ${m}`));
  const onService: Check = (p, args) => each(awsxContainers(componentInputs(p, args).taskDefinitionArgs));
  const onTaskDefinition: Check = (p, args) => each(awsxContainers(componentInputs(p, args)));
  return {
    "aws:ecs/taskDefinition:TaskDefinition": (p) =>
      each(typeof p.containerDefinitions === "string" ? JSON.parse(p.containerDefinitions) : []),
    "awsx:ecs:FargateService": onService,
    "awsx:ecs:EC2Service": onService,
    "awsx:ecs:FargateTaskDefinition": onTaskDefinition,
    "awsx:ecs:EC2TaskDefinition": onTaskDefinition,
  };
}
