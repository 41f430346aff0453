/** Options of {@link withRetry}. Every limit is explicit: no retry loop here is unbounded. */
export interface RetryOptions {
  /** Total attempts including the first (≥ 1). */
  readonly attempts: number;
  /** Delay before the first retry, in ms. */
  readonly minDelayMs: number;
  /** Upper bound of any delay, in ms. */
  readonly maxDelayMs: number;
  /** Growth factor between delays (default 2). */
  readonly factor?: number;
  /**
   * Decides whether `err` is worth another attempt. Return `false` to stop, `true` to retry after the backoff
   * delay, or a minimum number of ms to wait instead (e.g. a `Retry-After` header; jitter only adds to it).
   */
  readonly retryOn: (err: unknown, attempt: number) => boolean | number;
  /** Called before each retry (progress, logs). */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Aborts waiting between attempts. */
  readonly signal?: AbortSignal;
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, `retryOn` declines, or `attempts` run out; then rethrows the last error.
 * Delays grow exponentially from `minDelayMs` to `maxDelayMs` with ±20 % jitter so a fleet does not retry in
 * lock-step against one BMC.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const factor = opts.factor ?? 2;
  let delay = opts.minDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts) throw err;
      const decision = opts.retryOn(err, attempt);
      if (decision === false) throw err;
      const base = typeof decision === "number" ? decision : delay;
      // A delay asked for by the server (Retry-After) is a minimum: jitter may only lengthen it.
      const spread = typeof decision === "number" ? 1 + Math.random() * 0.2 : 0.8 + Math.random() * 0.4;
      const jittered = Math.min(opts.maxDelayMs, Math.max(0, Math.round(base * spread)));
      opts.onRetry?.(err, attempt, jittered);
      await sleep(jittered, opts.signal);
      delay = Math.min(opts.maxDelayMs, delay * factor);
    }
  }
}
