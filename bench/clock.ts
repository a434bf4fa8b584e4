/** Time in the bench: when the run started, progress lines on stderr stamped from it, and the runtime's sleep. */
import { nowMs } from "./load";
export { sleep } from "../runtime/gateway/util";

/** When this process loaded the bench; progress lines and the report's duration count from it. */
export const benchStartMs = nowMs();

export const log = (line: string): void => {
  process.stderr.write(`[bench +${((nowMs() - benchStartMs) / 1000).toFixed(1)}s] ${line}\n`);
};
