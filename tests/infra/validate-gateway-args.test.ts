/**
 * `validateGatewayServiceArgs`: GatewayService refuses bad or conflicting args before declaring anything, naming
 * the component and the field. Pure: no Pulumi runtime, no mocks.
 */
import { gatewayTables } from "../../runtime/contracts";
import { configKeys } from "../../components/config-keys";
import {
  gatewayServiceArgsErrors,
  validateGatewayServiceArgs,
  withGatewayDefaults,
  type GatewayServiceArgs,
} from "../../components/gateway-service-args";

const queue = (n: string) => ({ arn: `arn:aws:sqs:us-east-1:123456789012:${n}`, url: `https://sqs.example/${n}` });
const base: GatewayServiceArgs = {
  namePrefix: "parley-test",
  network: { natGateways: "Single", availabilityZones: 2, sqsInterfaceEndpoint: false },
  inboundQueue: queue("inbound.fifo"),
  notifyQueue: queue("notify"),
  tables: Object.fromEntries(
    gatewayTables.map((k) => [k, { name: `t-${k}`, arn: `arn:aws:dynamodb:us-east-1:123456789012:table/t-${k}` }]),
  ) as GatewayServiceArgs["tables"],
};
const cert = "arn:aws:acm:us-east-1:123456789012:certificate/x";

describe("withGatewayDefaults", () => {
  test("fills every unset arg with the stack config's default, and the caller wins", () => {
    const a = withGatewayDefaults(base);
    expect(a).toMatchObject({
      cpu: configKeys.gatewayCpu.default,
      memoryMb: configKeys.gatewayMemoryMb.default,
      desiredCount: configKeys.gatewayDesiredCount.default,
      minCount: configKeys.gatewayMinCount.default,
      maxCount: configKeys.gatewayMaxCount.default,
      port: configKeys.gatewayPort.default,
      internalPort: configKeys.gatewayInternalPort.default,
      heartbeatMs: configKeys.heartbeatMs.default,
      albIdleTimeoutSeconds: configKeys.albIdleTimeoutSeconds.default,
      editWindowSeconds: configKeys.editWindowSeconds.default,
      logLevel: configKeys.logLevel.default,
      logRetentionDays: configKeys.logRetentionDays.default,
      deletionProtection: true,
    });
    expect(withGatewayDefaults({ ...base, cpu: 1024, deletionProtection: false })).toMatchObject({
      cpu: 1024,
      deletionProtection: false,
    });
  });
});

describe("validateGatewayServiceArgs", () => {
  test("the defaults build a service; so does HTTPS with an https origin", () => {
    expect(() => validateGatewayServiceArgs("gw", base)).not.toThrow();
    expect(gatewayServiceArgsErrors({ ...base, certificateArn: cert, publicOrigin: "https://chat.example" })).toEqual(
      [],
    );
  });

  test.each<[Partial<GatewayServiceArgs>, RegExp]>([
    [{ minCount: 3 }, /minCount <= desiredCount <= maxCount must hold, got 3, 2, 10/],
    [{ desiredCount: 11 }, /minCount <= desiredCount <= maxCount must hold, got 2, 11, 10/],
    [{ internalPort: 8080 }, /port and internalPort must differ, both are 8080/],
    [{ albIdleTimeoutSeconds: 50 }, /albIdleTimeoutSeconds \(50 s\) must exceed twice heartbeatMs \(25000 ms\)/],
    [{ certificateArn: cert }, /publicOrigin \(https:\/\/\.\.\.\) is required with certificateArn/],
    [{ certificateArn: cert, publicOrigin: "http://chat.example" }, /publicOrigin \(https:\/\/\.\.\.\) is required/],
    [{ cpu: 300 }, /cpu must be one of 256, 512, 1024, 2048, 4096, got 300/],
    [{ cpu: 256, memoryMb: 4096 }, /memoryMb must be in \[512, 2048\] for cpu 256, got 4096/],
    [{ port: 80 }, /port must be an integer in \[1024, 65535\], got 80/],
    [{ desiredCount: 0 }, /desiredCount must be an integer in \[1, 100\], got 0/],
    [{ cpuTargetPercent: 95 }, /cpuTargetPercent must be an integer in \[10, 90\], got 95/],
    [{ heartbeatMs: 1500.5 }, /heartbeatMs must be an integer/],
    [{ editWindowSeconds: 0 }, /editWindowSeconds must be an integer in \[1, 31536000\], got 0/],
    [{ logRetentionDays: 10 }, /logRetentionDays must be one of 1, 3, 5/],
    [{ logLevel: "verbose" }, /logLevel must be a pino level name, got "verbose"/],
  ])("%j fails naming the field", (override, message) => {
    expect(() => validateGatewayServiceArgs("gw", { ...base, ...override })).toThrow(message);
  });

  test("a missing table is named", () => {
    const { auth: _auth, ...tables } = base.tables;
    expect(() => validateGatewayServiceArgs("gw", { ...base, tables: tables as GatewayServiceArgs["tables"] })).toThrow(
      /tables\.auth is required/,
    );
  });

  test("the message names the component, and every fault at once", () => {
    expect(() => validateGatewayServiceArgs("gw", { ...base, internalPort: 8080, logLevel: "loud" })).toThrow(
      /^GatewayService gw: .*port and internalPort must differ.*; logLevel must be a pino level name/,
    );
  });
});
