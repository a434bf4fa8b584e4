/**
 * Runs the pack's rules the way @pulumi/policy's analyzer does (server.js `analyze` / `analyzeStack`): each
 * resource policy's `validateResource` gets a ResourceValidationArgs with the inputs behind the unknown-
 * checking proxy and the policy's own config; each stack policy gets every resource at once. A violation
 * comes back as `<policy>: <message>`, so a test sees which rule spoke.
 */
import type {
  Policies,
  PolicyPackConfig,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidation,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";

// The analyzer's own wrapper (exported at runtime, left out of the typings): reading an unknown value throws.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { unknownCheckingProxy } = require("@pulumi/policy") as { unknownCheckingProxy: <T>(props: T) => T };

/** What the analyzer is told about a resource: the recorded mocks carry type, name, inputs (and options). */
export interface AnalyzedResource {
  readonly type: string;
  readonly name: string;
  // Inputs as recorded: untyped JSON.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly inputs: Record<string, any>;
  readonly opts?: { readonly ignoreChanges?: readonly string[] };
}

class NotApplicable extends Error {}

const urnOf = (r: AnalyzedResource) => `urn:pulumi:test::parley::${r.type}::${r.name}`;

function optionsOf(r: AnalyzedResource): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: [...(r.opts?.ignoreChanges ?? [])],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
  };
}

// The analyzer matches `isType`/`asType` on the class's `__pulumiType`.
const typeOf = (resourceClass: unknown) => (resourceClass as { __pulumiType?: string }).__pulumiType;

function configOf(config: PolicyPackConfig, policy: string) {
  return () => {
    const c = config[policy];
    if (c === undefined || typeof c === "string") return {};
    const { enforcementLevel: _level, ...properties } = c;
    return properties;
  };
}

const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

/** What @pulumi/policy gives both a resource rule and a stack rule about one resource. */
function described(r: AnalyzedResource) {
  const props = unknownCheckingProxy(r.inputs);
  return {
    type: r.type,
    props,
    urn: urnOf(r),
    name: r.name,
    opts: optionsOf(r),
    isType: (cls: Parameters<ResourceValidationArgs["isType"]>[0]) => typeOf(cls) === r.type,
    asType: (cls: Parameters<ResourceValidationArgs["isType"]>[0]) =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      typeOf(cls) === r.type ? (props as any) : undefined,
  };
}

function resourceArgs(r: AnalyzedResource, getConfig: () => object): ResourceValidationArgs {
  return {
    ...described(r),
    stackTags: new Map(),
    getConfig: getConfig as ResourceValidationArgs["getConfig"],
    notApplicable,
  };
}

function stackResource(r: AnalyzedResource): PolicyResource {
  return { ...described(r), dependencies: [], propertyDependencies: {} };
}

/** Every violation the policies report for these resources, each as `<policy>: <message>`. */
export async function violations(
  policies: Policies,
  resources: readonly AnalyzedResource[],
  config: PolicyPackConfig = {},
): Promise<string[]> {
  const found: string[] = [];
  for (const p of policies) {
    const level = typeof config[p.name] === "string" ? config[p.name] : undefined;
    if (level === "disabled") continue;
    const report = (message: string) => found.push(`${p.name}: ${message}`);
    const getConfig = configOf(config, p.name);
    if ("validateResource" in p && p.validateResource) {
      const validations: ResourceValidation[] = [p.validateResource].flat();
      for (const r of resources) {
        for (const validate of validations) {
          try {
            await validate(resourceArgs(r, getConfig), report);
          } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
          }
        }
      }
    }
    if ("validateStack" in p && p.validateStack) {
      const args: StackValidationArgs = {
        resources: resources.map(stackResource),
        stackTags: new Map(),
        getConfig: getConfig as StackValidationArgs["getConfig"],
        notApplicable,
      };
      try {
        await p.validateStack(args, report);
      } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
      }
    }
  }
  return found;
}
