/** Latency summaries of hdr histograms and the delivery counts every phase reports: shared by the phases and the report. */
import type { Histogram } from "./load";

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** Histograms record microseconds; summaries are in milliseconds. */
export function summarize(h: Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  if (!h.totalCount) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}

/** Points of the percentile curve, for the chart (x = percentile, y = ms). */
export function percentileCurve(h: Histogram): { p: number; ms: number }[] {
  const ps = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];
  return h.totalCount ? ps.map((p) => ({ p, ms: h.getValueAtPercentile(p) / 1000 })) : [];
}

/** What became of a phase's messages (the main phases summed, or one burst). */
export interface DeliveryCounts {
  readonly system: string;
  readonly sent: number;
  readonly expected: number;
  readonly delivered: number;
  /** Never delivered by the end of the run. */
  readonly lost: number;
  /** Delivered, but after the drain window (seconds after the phase's last send). */
  readonly late: number;
  readonly duplicates: number;
  readonly orderViolations: number;
  readonly errors: Record<string, number>;
}
