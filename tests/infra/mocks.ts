/**
 * Runs the Pulumi program under `pulumi.runtime.setMocks`: config first, then `await import` of index.ts.
 * Records every resource's {type, name, inputs} and answers with realistic ids, ARNs and URLs, including
 * the outputs of the awsx components (remote under mocks: we see their inputs, not their children).
 */
import type * as PulumiModule from "@pulumi/pulumi";
import { sleep } from "../support/timing";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

export interface Recorded {
  readonly type: string;
  readonly name: string;
  // Recorded inputs are whatever the program passed: loosely typed on purpose.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly inputs: any;
  /** The resource options the engine would see (the mock API passes none of them to `newResource`). */
  readonly opts: RecordedOptions;
}

export interface RecordedOptions {
  readonly ignoreChanges: readonly string[];
  /** The `transforms` registered on the resource (the engine runs them on its children, remote ones too). */
  readonly transforms: readonly PulumiModule.ResourceTransform[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type State = Record<string, any>;

export function stateFor(type: string, name: string, inputs: State): { id: string; state: State } {
  const physical: string = inputs.name ?? name;
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  switch (type) {
    case "aws:sqs/queue:Queue":
      return {
        id: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`,
        state: {
          ...inputs,
          name: physical,
          arn: arn("sqs", physical),
          url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`,
        },
      };
    case "aws:dynamodb/table:Table":
      return { id: physical, state: { ...inputs, name: physical, arn: arn("dynamodb", `table/${physical}`) } };
    case "aws:iam/role:Role":
      return { id: physical, state: { ...inputs, name: physical, arn: `arn:aws:iam::${ACCOUNT}:role/${physical}` } };
    case "aws:lambda/function:Function":
      return { id: physical, state: { ...inputs, name: physical, arn: arn("lambda", `function:${physical}`) } };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { id: physical, state: { ...inputs, name: physical, arn: arn("logs", `log-group:${physical}`) } };
    case "aws:sns/topic:Topic":
      return { id: arn("sns", physical), state: { ...inputs, name: physical, arn: arn("sns", physical) } };
    case "aws:secretsmanager/secret:Secret":
      return {
        id: arn("secretsmanager", `secret:${physical}-AbCdEf`),
        state: { ...inputs, arn: arn("secretsmanager", `secret:${physical}-AbCdEf`) },
      };
    case "aws:ecs/cluster:Cluster":
      return {
        id: arn("ecs", `cluster/${physical}`),
        state: { ...inputs, name: physical, arn: arn("ecs", `cluster/${physical}`) },
      };
    case "aws:ec2/securityGroup:SecurityGroup": {
      const id = `sg-${shortHash(name)}`;
      return { id, state: { ...inputs, arn: arn("ec2", `security-group/${id}`) } };
    }
    case "awsx:ec2:Vpc":
      return {
        id: "",
        state: {
          vpcId: "vpc-0abc",
          publicSubnetIds: ["subnet-0a1", "subnet-0a2"],
          privateSubnetIds: ["subnet-0b1", "subnet-0b2"],
        },
      };
    case "awsx:lb:ApplicationLoadBalancer":
      return {
        id: "",
        state: {
          loadBalancer: {
            dnsName: `${name}-123456.${REGION}.elb.amazonaws.com`,
            arn: arn("elasticloadbalancing", `loadbalancer/app/${name}/50dc6c495c0c9188`),
            arnSuffix: `app/${name}/50dc6c495c0c9188`,
          },
          defaultTargetGroup: {
            arn: arn("elasticloadbalancing", `targetgroup/${name}/73e2d6bc24d8a067`),
            arnSuffix: `targetgroup/${name}/73e2d6bc24d8a067`,
          },
        },
      };
    case "awsx:ecr:Repository":
      return { id: "", state: { url: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${physical}` } };
    case "awsx:ecr:Image":
      return { id: "", state: { imageUri: `${inputs.repositoryUrl}@sha256:${"ab".repeat(32)}` } };
    default:
      return {
        id: `${name}-id`,
        state: { ...inputs, ...(inputs.name ? {} : { name: physical }), arn: arn("mock", name) },
      };
  }
}

function shortHash(s: string): string {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** Answers for the provider functions the program invokes. */
export function callResult(token: string, inputs: State = {}): State {
  switch (token) {
    case "aws:ec2/getRouteTables:getRouteTables": {
      // One route table per subnet the filter names, as awsx creates them.
      const subnets: string[] =
        inputs.filters?.find((f: { name: string }) => f.name === "association.subnet-id")?.values ?? [];
      return { id: inputs.vpcId, vpcId: inputs.vpcId, ids: subnets.map((s) => s.replace(/^subnet-/, "rtb-")) };
    }
    case "aws:index/getRegion:getRegion":
      return { region: REGION, name: REGION, id: REGION };
    case "aws:secretsmanager/getRandomPassword:getRandomPassword":
      return { randomPassword: "r".repeat(64), id: "pw" };
    default:
      return {};
  }
}

export function promiseOf<T>(output: PulumiModule.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

export interface LoadedProgram {
  // The program's exports: Outputs and plain values.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly program: Record<string, any>;
  readonly resources: Recorded[];
  readonly pulumi: typeof PulumiModule;
  /** Every provider function the program invoked, with its arguments. */
  readonly calls: readonly { token: string; inputs: State }[];
  /** Every `pulumi.log.warn` message the program logged, in order. */
  readonly warnings: readonly string[];
  /** Recorded resources of one type. */
  ofType(type: string): Recorded[];
  /** The one recorded resource with this type and name; throws when absent. */
  one(type: string, name: string): Recorded;
}

/**
 * Loads index.ts under mocks with the given `parley:*` config (keys without the namespace). Each call gets a
 * fresh module registry, so several configurations can be loaded in one file.
 */
export async function loadProgram(config: Record<string, string> = {}, stack = "test"): Promise<LoadedProgram> {
  jest.resetModules();
  const pulumi = await import("@pulumi/pulumi");
  const resources: Recorded[] = [];
  const warnings: string[] = [];
  const calls: { token: string; inputs: State }[] = [];
  jest.spyOn(pulumi.log, "warn").mockImplementation(async (msg: string) => {
    warnings.push(msg);
  });
  const optionsByResource = new Map<string, RecordedOptions>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const opts = optionsByResource.get(`${args.type}::${args.name}`) ?? { ignoreChanges: [], transforms: [] };
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, opts });
        return stateFor(args.type, args.name, args.inputs as State);
      },
      call(args) {
        calls.push({ token: args.token, inputs: args.inputs as State });
        return callResult(args.token, args.inputs as State);
      },
    },
    "parley",
    stack,
    false,
  );
  const transformsByToken = await enableTransforms();
  // The mock monitor hands newResource only type, name and inputs; the options are read off the request here.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: RegisterResource };
  const registerResource = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    optionsByResource.set(`${req.getType()}::${req.getName()}`, {
      ignoreChanges: req.getIgnorechangesList(),
      transforms: req.getTransformsList().map((cb) => transformsByToken.get(cb.getToken())!),
    });
    registerResource(req, callback);
  };
  // Stacks without a certificate must opt into plain HTTP, as Pulumi.dev.yaml does.
  const http: Record<string, string> = config.certificateArn ? {} : { allowInsecureHttp: "true" };
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries({ "aws:region": REGION, ...prefixed({ ...http, ...config }) })),
  );
  const program = (await import("../../index")) as Record<string, unknown>;
  // Await every export, then let late children (registered after their parents resolve) land.
  await Promise.all(Object.values(program).map((v) => (pulumi.Output.isInstance(v) ? promiseOf(v) : v)));
  let count = -1;
  while (count !== resources.length) {
    count = resources.length;
    await sleep(200);
  }
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  return {
    program,
    resources,
    pulumi,
    warnings,
    calls,
    ofType,
    one(type, name) {
      const found = resources.filter((r) => r.type === type && r.name === name);
      if (found.length !== 1) {
        throw new Error(
          `expected one ${type} named ${name}, found ${found.length}: ${resources.map((r) => `${r.type}/${r.name}`).join(", ")}`,
        );
      }
      return found[0]!;
    },
  };
}

/**
 * The mock runtime turns transforms off; this turns them on with a stand-in callback server that keeps each
 * transform (by the token the request carries), so tests can run it. Call after `setMocks`.
 */
export async function enableTransforms(): Promise<Map<string, PulumiModule.ResourceTransform>> {
  const state = (await import("@pulumi/pulumi/runtime/state")) as unknown as {
    getStore(): { supportsTransforms: boolean; callbacks?: unknown };
  };
  const { Callback } = (await import("@pulumi/pulumi/proto/callback_pb")) as unknown as {
    Callback: new () => { setToken(token: string): void };
  };
  const store = state.getStore();
  const transformsByToken = new Map<string, PulumiModule.ResourceTransform>();
  store.supportsTransforms = true;
  store.callbacks = {
    async awaitStackRegistrations() {},
    async registerTransform(transform: PulumiModule.ResourceTransform) {
      const token = `transform-${transformsByToken.size}`;
      transformsByToken.set(token, transform);
      const callback = new Callback();
      callback.setToken(token);
      return callback;
    },
  };
  return transformsByToken;
}

type RegisterResource = (
  req: {
    getType(): string;
    getName(): string;
    getIgnorechangesList(): string[];
    getTransformsList(): { getToken(): string }[];
  },
  callback: unknown,
) => void;

function prefixed(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(":") ? k : `parley:${k}`, v]));
}
