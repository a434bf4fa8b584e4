/** `parley:*` config: defaults, cross-checks that name the key, and Pulumi.yaml / Pulumi.dev.yaml in step. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseConfig, type RawConfig } from "../../components/config";
import { configKeys, type ConfigKey } from "../../components/config-keys";
import {
  conversationSettings,
  DEFAULT_LOG_LEVEL,
  env,
  gatewaySettings,
  gatewayTables,
  loadGatewayConfig,
  persisterSettings,
  queues,
  tables,
} from "../../runtime/contracts";

// js-yaml arrives with eslint (no types of its own); only `load` is used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { load } = require("js-yaml") as { load(text: string): unknown };

const ctx = { project: "parley", stack: "dev" };
const root = path.resolve(__dirname, "../..");

describe("HTTPS by default", () => {
  test("without a certificate the stack refuses to build unless plain HTTP is explicitly allowed", () => {
    expect(() => parseConfig({}, ctx)).toThrow(/parley:certificateArn.*parley:allowInsecureHttp/);
    expect(() => parseConfig({ allowInsecureHttp: "false" }, ctx)).toThrow(/parley:allowInsecureHttp/);
    expect(parseConfig({ allowInsecureHttp: "true" }, ctx).gateway.certificateArn).toBeUndefined();
    const cert = parseConfig(
      { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/x", publicOrigin: "https://a.example" },
      ctx,
    );
    expect(cert.gateway.certificateArn).toBe("arn:aws:acm:us-east-1:123456789012:certificate/x");
  });
});

// The cases below are about other keys: they run as a stack that explicitly allows plain HTTP.
const parseHttp = (raw: RawConfig, c: typeof ctx) => parseConfig({ allowInsecureHttp: "true", ...raw }, c);

describe("parseConfig", () => {
  test("defaults give a private, NAT-backed, two-task stack", () => {
    const c = parseHttp({}, ctx);
    expect(c.namePrefix).toBe("parley-dev");
    expect(c.deletionProtection).toBe(true);
    // One NAT per AZ: a single NAT's AZ failing would cut every task off from ECR, SQS and DynamoDB.
    expect(c.network).toEqual({ natGateways: "OnePerAz", availabilityZones: 2, sqsInterfaceEndpoint: false });
    expect(c.persister).toEqual({ memoryMb: 512, timeoutSeconds: 30, batchSize: 10, maxConcurrency: 2 });
    expect(c.gateway).toMatchObject({ port: 8080, internalPort: 8081, desiredCount: 2, minCount: 2, maxCount: 10 });
    expect(c.gateway.albIdleTimeoutSeconds * 1000).toBeGreaterThan(2 * c.gateway.heartbeatMs);
    // A day, the runtime's own default: one value the program hands to the gateway and the persister alike.
    expect(c.editWindowSeconds).toBe(24 * 3600);
    expect(parseHttp({ editWindowSeconds: "600" }, ctx).editWindowSeconds).toBe(600);
  });

  test.each<[RawConfig, RegExp]>([
    [{ persisterTimeoutSeconds: "31" }, /parley:persisterTimeoutSeconds must be an integer in \[1, 30\]/],
    [{ persisterBatchSize: "11" }, /parley:persisterBatchSize/],
    [{ persisterMaxConcurrency: "1" }, /parley:persisterMaxConcurrency must be an integer in \[2, 1000\]/],
    [{ persisterMaxConcurrency: "1001" }, /parley:persisterMaxConcurrency must be an integer in \[2, 1000\]/],
    [{ persisterMemoryMb: "lots" }, /parley:persisterMemoryMb/],
    [{ deletionProtection: "yes" }, /parley:deletionProtection must be true or false/],
    [{ logRetentionDays: "10" }, /parley:logRetentionDays must be one of/],
    [{ gatewayCpu: "300" }, /parley:gatewayCpu must be one of/],
    [{ gatewayCpu: "256", gatewayMemoryMb: "4096" }, /parley:gatewayMemoryMb must be an integer in \[512, 2048\]/],
    [{ gatewayMinCount: "3" }, /parley:gatewayMinCount <= parley:gatewayDesiredCount <= parley:gatewayMaxCount/],
    [{ gatewayInternalPort: "8080" }, /parley:gatewayPort and parley:gatewayInternalPort must differ/],
    [{ albIdleTimeoutSeconds: "50" }, /parley:albIdleTimeoutSeconds .* must exceed twice parley:heartbeatMs/],
    [
      { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/x" },
      /parley:publicOrigin is required when parley:certificateArn/,
    ],
    [
      { certificateArn: "nope", publicOrigin: "https://a.example" },
      /parley:certificateArn must be an ACM certificate ARN/,
    ],
    [{ publicOrigin: "chat.example.com" }, /parley:publicOrigin must be an origin/],
    [{ vpcId: "vpc-0abc", publicSubnetIds: "subnet-01" }, /parley:publicSubnetIds needs at least two subnets/],
    [
      { privateSubnetIds: "subnet-01,subnet-02" },
      /parley:publicSubnetIds and parley:privateSubnetIds need parley:vpcId/,
    ],
    [{ natGateways: "Many" }, /parley:natGateways must be Single, OnePerAz or None/],
    [{ sqsInterfaceEndpoint: "yes" }, /parley:sqsInterfaceEndpoint must be true or false/],
    [{ namePrefix: "Parley_Prod" }, /parley:namePrefix must be/],
    [{ jwtSecretArn: "plaintext-secret" }, /parley:jwtSecretArn must be a Secrets Manager secret or SSM parameter ARN/],
    [{ logLevel: "verbose" }, /parley:logLevel must be a pino level name/],
    [{ editWindowSeconds: "0" }, /parley:editWindowSeconds must be an integer in \[1, 31536000\], got "0"/],
    [{ editWindowSeconds: "31536001" }, /parley:editWindowSeconds must be an integer in \[1, 31536000\]/],
    [{ editWindowSeconds: "90.5" }, /parley:editWindowSeconds must be an integer/],
    [{ editWindowSeconds: "1d" }, /parley:editWindowSeconds must be an integer/],
    [{ alarmEmail: "ops" }, /parley:alarmEmail must be an email address/],
  ])("%j fails naming the key", (raw, message) => {
    expect(() => parseHttp(raw, ctx)).toThrow(message);
  });

  test("an out-of-range edit window fails with one line naming the key, its range and the value", () => {
    const { min, max } = conversationSettings.editWindowSeconds;
    let message = "";
    try {
      parseHttp({ editWindowSeconds: String(max + 1) }, ctx);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(`parley:editWindowSeconds must be an integer in [${min}, ${max}], got "${max + 1}"`);
  });

  test("an existing VPC: tasks stay private when private subnets are given, else get public IPs", () => {
    const base = { vpcId: "vpc-0abc", publicSubnetIds: "subnet-01, subnet-02" };
    expect(parseHttp({ ...base, privateSubnetIds: "subnet-03,subnet-04" }, ctx).network).toEqual({
      existing: {
        vpcId: "vpc-0abc",
        publicSubnetIds: ["subnet-01", "subnet-02"],
        privateSubnetIds: ["subnet-03", "subnet-04"],
      },
      sqsInterfaceEndpoint: false,
    });
    expect(parseHttp({ ...base, sqsInterfaceEndpoint: "true" }, ctx).network).toEqual({
      existing: { vpcId: "vpc-0abc", publicSubnetIds: ["subnet-01", "subnet-02"], privateSubnetIds: [] },
      sqsInterfaceEndpoint: true,
    });
  });

  test("empty strings (Pulumi.yaml's default for optional keys) mean unset", () => {
    const raw = Object.fromEntries(
      (Object.keys(configKeys) as ConfigKey[]).filter((k) => !("default" in configKeys[k])).map((k) => [k, ""]),
    );
    expect(parseHttp(raw, ctx)).toEqual(parseHttp({}, ctx));
  });
});

describe("one source with the runtime (runtime/contracts/settings.ts)", () => {
  test("keys a process reads again take the runtime's numbers", () => {
    expect(configKeys.heartbeatMs).toMatchObject(gatewaySettings.heartbeatMs);
    expect(configKeys.gatewayPort.default).toBe(gatewaySettings.port.default);
    expect(configKeys.gatewayInternalPort.default).toBe(gatewaySettings.internalPort.default);
    expect(configKeys.albIdleTimeoutSeconds).toMatchObject({
      min: gatewaySettings.albIdleTimeoutSeconds.min,
      max: gatewaySettings.albIdleTimeoutSeconds.max,
    });
    expect(configKeys.persisterBatchSize).toMatchObject(persisterSettings.batchSize);
    expect(configKeys.persisterTimeoutSeconds).toMatchObject(persisterSettings.timeoutSeconds);
    expect(configKeys.logLevel.default).toBe(DEFAULT_LOG_LEVEL);
    // The gateway and the persister both parse PARLEY_EDIT_WINDOW_SECONDS against this one setting.
    expect(configKeys.editWindowSeconds).toMatchObject(conversationSettings.editWindowSeconds);
  });

  test("the gateway's env is parsed against the same settings", () => {
    const secret = "s".repeat(32);
    const base = {
      [env.allowedOrigins]: "https://chat.example",
      [env.jwtSecret]: secret,
      [env.internalSecret]: secret,
      [queues.inbound.envVar]: "https://sqs.us-east-1.amazonaws.com/1/inbound.fifo",
      [queues.notify.envVar]: "https://sqs.us-east-1.amazonaws.com/1/notify",
      ...Object.fromEntries(gatewayTables.map((k) => [tables[k].envVar, `t-${k}`])),
    };
    const c = loadGatewayConfig(base);
    expect(c.port).toBe(gatewaySettings.port.default);
    expect(c.limits.heartbeatMs).toBe(gatewaySettings.heartbeatMs.default);
    expect(() => loadGatewayConfig({ ...base, [env.heartbeatMs]: "500" })).toThrow(
      `${env.heartbeatMs} must be an integer in [1000, 300000], got "500"`,
    );
    // Presence outlives three heartbeats: a longer heartbeat raises the floor of the TTL.
    expect(() => loadGatewayConfig({ ...base, [env.heartbeatMs]: "60000", [env.presenceTtlSeconds]: "90" })).toThrow(
      `${env.presenceTtlSeconds} must be an integer in [180, 3600], got "90"`,
    );
  });
});

describe("Pulumi.yaml and Pulumi.dev.yaml", () => {
  const project = load(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
    name: string;
    runtime: { name: string; options: { typescript: boolean } };
    config: Record<string, { type: string; description: string; default: unknown }>;
  };

  test("a TypeScript nodejs project named parley", () => {
    expect(project.name).toBe("parley");
    expect(project.runtime).toMatchObject({ name: "nodejs", options: { typescript: true } });
  });

  test("declares every parley:* key the program reads, with its type, description and default", () => {
    expect(Object.keys(project.config).sort()).toEqual(Object.keys(configKeys).sort());
    for (const [key, spec] of Object.entries(configKeys) as [ConfigKey, (typeof configKeys)[ConfigKey]][]) {
      const declared = project.config[key]!;
      expect(declared.type).toBe(spec.type);
      expect(declared.description).toBe(spec.description);
      expect(declared.default).toEqual("default" in spec ? spec.default : "");
    }
  });

  test("the dev stack's config parses", () => {
    const dev = load(readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    const raw: RawConfig = {};
    for (const [k, v] of Object.entries(dev.config)) {
      if (!k.startsWith("parley:")) continue;
      const key = k.slice("parley:".length);
      expect(Object.keys(configKeys)).toContain(key);
      raw[key as ConfigKey] = String(v);
    }
    const c = parseConfig(raw, ctx);
    expect(c.deletionProtection).toBe(false);
    expect(c.gateway.desiredCount).toBe(1);
    // A throwaway stack keeps one NAT; production's default is one per AZ.
    expect(c.network).toMatchObject({ natGateways: "Single", sqsInterfaceEndpoint: false });
  });
});
