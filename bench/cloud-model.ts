/**
 * The cloud latency model quoted in docs/benchmark.md ("Cloud latency model"): what one message's path would take
 * in AWS, estimated per hop from published (or, where nothing is published, assumed) latency figures and the
 * number of sequential round trips the code makes on that hop. There is no AWS account here: nothing in this file
 * is a measurement of Parley. `npx tsx bench/cloud-model.ts` prints the table the doc quotes.
 *
 * How the hops combine: each figure is a latency distribution through its published percentiles (log-latency
 * interpolated linearly in the normal score, so a lognormal where only p50 and p99 are known); a hop with k trips
 * is k independent draws; a hop only some deliveries take (`share`) is added with that probability. The
 * end-to-end p50/p99 are percentiles of the sum over many seeded draws — not the sum of the hops' p99s, which
 * would assume every hop is at its own worst 1 % at once (that sum is reported beside it as the pessimistic bound).
 */
import { configKeys } from "../components/config-keys";
import { seededRandom } from "./workload";

/** Latency percentiles in ms; p50 and p99 are required, p10 and p90 refine the shape where published. */
export interface Figure {
  readonly p10?: number;
  readonly p50: number;
  readonly p90?: number;
  readonly p99: number;
}

export interface Hop {
  readonly name: string;
  readonly figure: Figure;
  /** Sequential round trips (independent draws of `figure`) one message makes on this hop. */
  readonly trips: number;
  /** Share of deliveries that take this hop at all; 1 when absent. */
  readonly share?: number;
}

/** Normal scores of the percentiles a Figure may carry. */
const Z = { p10: -1.2815516, p50: 0, p90: 1.2815516, p99: 2.3263479 } as const;

/** The figure's quantile function on the normal score z: log-latency piecewise linear, extrapolated at both ends. */
export function quantileOf(figure: Figure): (z: number) => number {
  const points = (Object.keys(Z) as (keyof typeof Z)[])
    .filter((k) => figure[k] !== undefined)
    .map((k) => ({ z: Z[k], ln: Math.log(figure[k]!) }));
  for (let i = 1; i < points.length; i++) {
    if (points[i]!.ln < points[i - 1]!.ln) throw new Error(`percentiles must not decrease: ${JSON.stringify(figure)}`);
  }
  // Below the lowest anchor the first segment's slope continues (the lower half of a lognormal when p10 is absent).
  const slope = (i: number) => (points[i + 1]!.ln - points[i]!.ln) / (points[i + 1]!.z - points[i]!.z);
  return (z) => {
    let i = 0;
    while (i < points.length - 2 && z > points[i + 1]!.z) i++;
    return Math.exp(points[i]!.ln + slope(i) * (z - points[i]!.z));
  };
}

/** Standard normal draws (Box–Muller) from a seeded uniform source. */
function normalDraws(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

export interface Estimate {
  readonly p50: number;
  readonly p99: number;
}

export interface ModelOptions {
  readonly draws?: number;
  readonly seed?: number;
}

/** One value per draw: the end-to-end latency of one delivery. Each hop has its own random stream (seed + index). */
function samples(hops: readonly Hop[], draws: number, seed: number, skip?: number): Float64Array {
  const total = new Float64Array(draws);
  hops.forEach((hop, index) => {
    if (index === skip) return;
    const quantile = quantileOf(hop.figure);
    const z = normalDraws(seed + index);
    const taken = seededRandom(seed + 1000 + index);
    for (let d = 0; d < draws; d++) {
      if (hop.share !== undefined && taken() >= hop.share) continue;
      let sum = 0;
      for (let t = 0; t < hop.trips; t++) sum += quantile(z());
      total[d] = total[d]! + sum;
    }
  });
  return total.sort();
}

const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

/** End-to-end p50/p99 of the sum of the hops. */
export function estimate(hops: readonly Hop[], options: ModelOptions = {}): Estimate {
  const sorted = samples(hops, options.draws ?? 200_000, options.seed ?? 1);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

export interface HopShare extends Estimate {
  readonly name: string;
}

/**
 * What each hop adds to the end-to-end p50 and p99: the estimate minus the estimate without it (the other hops'
 * draws are the same in both, so the difference is the hop's, not noise).
 */
export function contributions(hops: readonly Hop[], options: ModelOptions = {}): HopShare[] {
  const draws = options.draws ?? 200_000;
  const seed = options.seed ?? 1;
  const full = samples(hops, draws, seed);
  return hops.map((hop, index) => {
    const without = samples(hops, draws, seed, index);
    return {
      name: hop.name,
      p50: percentile(full, 0.5) - percentile(without, 0.5),
      p99: percentile(full, 0.99) - percentile(without, 0.99),
    };
  });
}

/** Every hop at its own p99 at once, for every trip and share: the pessimistic bound. */
export const sumOfP99s = (hops: readonly Hop[]): number =>
  hops.reduce((sum, h) => sum + h.figure.p99 * h.trips * (h.share ?? 1), 0);

/**
 * An SDK call to DynamoDB from Lambda or Fargate in the same region, over a kept-alive connection. Assumed (no
 * published client-side percentiles): DynamoDB's service side is "single-digit millisecond"
 * (https://aws.amazon.com/blogs/database/understanding-amazon-dynamodb-latency/); a PutItem from Lambda with
 * keep-alive averaged ≈ 10 ms in https://theburningmonk.com/2019/02/lambda-optimization-tip-enable-http-keep-alive/;
 * the SDK's own CPU is 0.4–0.5 ms per call here with the middleware cache (bench/sdk-cost.ts). The p99 allows for the occasional new TLS
 * connection and the service-side spikes the DynamoDB guide calls normal.
 */
const DYNAMODB_CALL: Figure = { p50: 6, p99: 25 };

/** Gateways in the default deployment: the gateway that receives a notification holds 1/N of the sockets. */
const GATEWAYS = configKeys.gatewayMinCount.default;

const INBOUND = "SendMessage → inbound FIFO → event source mapping → persister";
/** The SQS standard queue → Lambda figure of the page the inbound hop's figure comes from (see AWS_HOPS). */
const STANDARD_QUEUE: Figure = { p10: 13.7, p50: 16.2, p90: 33.8, p99: 105 };

/** The path of one message in AWS, from its frame entering the ALB to the recipient's frame leaving it. */
export const AWS_HOPS: readonly Hop[] = [
  {
    // Assumed: AWS publishes no per-frame figure; ALB access logs show request/response processing of ≈ 1 ms
    // (https://www.repost.aws/knowledge-center/elb-fix-high-latency-on-alb), plus an ALB node → task hop that may cross AZs.
    name: "ALB: frame in, frame out",
    figure: { p50: 1, p99: 5 },
    trips: 2,
  },
  {
    // Assumed: in-process work (parse, rate limit, cached membership; outbox, ws write). Parley's own code is < 3 %
    // of the gateway's CPU in the local profile, so the tail is event-loop wait behind other work, not the code.
    name: "gateway: frame → SendMessage, notification → socket",
    figure: { p50: 0.5, p99: 5 },
    trips: 2,
  },
  {
    // Measured by https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/ (eu-west-1, 2022,
    // 1,024 messages): producer timestamp → consumer Lambda via an SQS FIFO event source mapping, send included.
    name: INBOUND,
    figure: { p10: 21.9, p50: 28.1, p90: 61.2, p99: 645 },
    trips: 1,
  },
  {
    // runtime/persister/store-message.ts on a warm instance (seq hint and members cached): claimDedupe PutItem,
    // putMessageIfSlotFree PutItem; then persist-batch.ts recordStoredMessage UpdateItem.
    name: "persister: DynamoDB round trips",
    figure: DYNAMODB_CALL,
    trips: 3,
  },
  {
    // The same page's SQS standard queue via an event source mapping (conservative: a gateway's own waiting long
    // poll has no Lambda invoke in it). notify.ts SendMessageBatch → delivery/consumer.ts ReceiveMessage.
    name: "SendMessageBatch → notify queue → gateway long poll",
    figure: STANDARD_QUEUE,
    trips: 1,
  },
  {
    // delivery/directory.ts: members' connections are cached and invalidated on connect/disconnect (10 min TTL as a
    // safety net); a miss is one byUser Query (misses of one batch run in parallel). Assumed: 1 notification in 20.
    name: "gateway: directory Query on a cache miss",
    figure: DYNAMODB_CALL,
    trips: 1,
    share: 0.05,
  },
  {
    // delivery/peer.ts: one POST per peer gateway per batch over a kept-alive connection, frame written on arrival.
    // Cross-AZ round trips are 0.5–1.5 ms (https://flashgrid.io/es/news/latencies-between-aws-availability-zones-what-are-they-and-how-to-minimize-them);
    // assumed p50 1 ms, p99 5 ms with the peer's handling. Taken by the recipients on the other gateways.
    name: "peer forward to the recipient's gateway",
    figure: { p50: 1, p99: 5 },
    trips: 1,
    share: (GATEWAYS - 1) / GATEWAYS,
  },
];

/** The budget in ../shared/DESIGN.md: "in AWS (per-hop model) p50 ≤ 60 ms, p99 ≤ 300 ms". */
export const AWS_BUDGET: Estimate = { p50: 60, p99: 300 };

/** The hops with the one named changed: the "what would shrink it" lines of the report. */
export function withHop(hops: readonly Hop[], name: string, change: Partial<Hop>): Hop[] {
  if (!hops.some((h) => h.name === name)) throw new Error(`no hop named ${name}`);
  return hops.map((h) => (h.name === name ? { ...h, ...change } : h));
}

const twoTrips = withHop(AWS_HOPS, "persister: DynamoDB round trips", { trips: 2 });

const VARIANTS: readonly { readonly label: string; readonly hops: readonly Hop[] }[] = [
  { label: "persister at 2 round trips instead of 3", hops: twoTrips },
  { label: "inbound hop at the standard queue's figure", hops: withHop(AWS_HOPS, INBOUND, { figure: STANDARD_QUEUE }) },
  { label: "both", hops: withHop(twoTrips, INBOUND, { figure: STANDARD_QUEUE }) },
];

function report(): string {
  const total = estimate(AWS_HOPS);
  const rows = contributions(AWS_HOPS).map((c, i) => {
    const h = AWS_HOPS[i]!;
    const share = h.share === undefined ? "" : ` (${Math.round(h.share * 100)} %)`;
    return `| ${h.name} | ${h.figure.p50} / ${h.figure.p99} | ${h.trips}${share} | +${c.p50.toFixed(1)} / +${c.p99.toFixed(0)} |`;
  });
  return [
    "| hop | figure p50 / p99 ms | trips | adds to e2e p50 / p99 ms |",
    "|---|---|---|---|",
    ...rows,
    `| **end to end** | | | **${total.p50.toFixed(0)} / ${total.p99.toFixed(0)}** (budget ${AWS_BUDGET.p50} / ${AWS_BUDGET.p99}; sum of p99s ${sumOfP99s(AWS_HOPS).toFixed(0)}) |`,
    "",
    ...VARIANTS.map((v) => {
      const e = estimate(v.hops);
      return `- ${v.label}: ${e.p50.toFixed(0)} / ${e.p99.toFixed(0)} ms`;
    }),
  ].join("\n");
}

if (require.main === module) console.log(report());
