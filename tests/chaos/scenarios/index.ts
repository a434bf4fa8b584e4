/** The chaos scenarios with their bounded (CI) and long round counts, in the order `npm run test:chaos` runs them. */
import type { ChaosContext, ScenarioResult } from "../kit";
import { dynamodbOutage } from "./dynamodb-outage";
import { forcedDuplicates } from "./duplicates";
import { gatewayKill } from "./gateway-kill";
import { poisonMessages } from "./poison";
import { runnerKill } from "./runner-kill";
import { sqsOutage } from "./sqs-outage";
import { stallsAfterFailure } from "./stalls";

export interface Scenario {
  readonly name: string;
  run(ctx: ChaosContext, long: boolean): Promise<ScenarioResult>;
}

export const scenarios: readonly Scenario[] = [
  { name: "runner-kill", run: (ctx, long) => runnerKill(ctx, { rounds: long ? 50 : 20 }) },
  { name: "poison", run: (ctx, long) => poisonMessages(ctx, { rounds: long ? 3 : 1 }) },
  { name: "duplicates", run: (ctx, long) => forcedDuplicates(ctx, { rounds: long ? 5 : 1 }) },
  {
    name: "dynamodb-outage",
    run: (ctx, long) => dynamodbOutage(ctx, { rounds: long ? 3 : 1, outageMs: long ? 6_000 : 3_000 }),
  },
  { name: "stalls", run: (ctx, long) => stallsAfterFailure(ctx, { rounds: long ? 3 : 1 }) },
  { name: "gateway-kill", run: (ctx, long) => gatewayKill(ctx, { rounds: long ? 10 : 2 }) },
  // Last: it recreates the (in-memory) queues.
  { name: "sqs-outage", run: (ctx, long) => sqsOutage(ctx, { rounds: long ? 3 : 1 }) },
];
