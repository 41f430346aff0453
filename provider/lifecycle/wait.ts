import { TimeoutError } from "../errors/timeout-error";
import { sleep } from "./retry";

/** What one probe of a wait observed. */
export interface ProbeResult<T> {
  /** True when the wait is over. */
  readonly done: boolean;
  /** The value to return when done. */
  readonly value?: T;
  /** A short description of the current state, for progress lines and the timeout message. */
  readonly status: string;
}

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** What we wait for, e.g. `BootProgress OSRunning on dpu-0`. */
  readonly what: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** Called with a progress line at most every `progressEveryMs` (default 10 s) and when the status changes. */
  readonly onProgress?: (line: string) => void;
  readonly progressEveryMs?: number;
  /** Errors the probe may throw while the target is still coming up (they count as "not yet"). */
  readonly transient?: (err: unknown) => boolean;
  readonly signal?: AbortSignal;
}

/**
 * Polls `probe` until it reports done, reporting progress (what, elapsed, last status) along the way.
 * Throws a {@link TimeoutError} naming the last status when `timeoutMs` passes. No fixed sleeps elsewhere.
 */
export async function pollUntil<T>(probe: () => Promise<ProbeResult<T>>, opts: PollOptions): Promise<T> {
  const start = Date.now();
  const every = opts.progressEveryMs ?? 10_000;
  let lastStatus = "";
  let lastReport = start;
  let lastError: unknown;
  for (;;) {
    let result: ProbeResult<T> | undefined;
    try {
      result = await probe();
      lastError = undefined;
    } catch (err) {
      if (!opts.transient?.(err)) throw err;
      lastError = err;
      result = {
        done: false,
        status: `not reachable yet (${err instanceof Error ? err.message : String(err)})`,
      };
    }
    const elapsed = Date.now() - start;
    if (result.done) {
      opts.onProgress?.(`${opts.what}: done after ${Math.round(elapsed / 1000)}s (${result.status})`);
      return result.value as T;
    }
    if (result.status !== lastStatus || Date.now() - lastReport >= every) {
      opts.onProgress?.(
        `waiting for ${opts.what}: ${Math.round(elapsed / 1000)}s elapsed, last: ${result.status}`,
      );
      lastStatus = result.status;
      lastReport = Date.now();
    }
    if (elapsed >= opts.timeoutMs) {
      throw new TimeoutError(opts.what, elapsed, `last: ${result.status}`, { cause: lastError });
    }
    await sleep(Math.min(opts.intervalMs, Math.max(0, opts.timeoutMs - elapsed)), opts.signal);
  }
}
