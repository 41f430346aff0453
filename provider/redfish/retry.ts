import { RedfishHttpError } from "../errors/redfish-http-error";
import { withRetry } from "../lifecycle/retry";
import type { Logger } from "../log";
import { BUSY_MESSAGE_IDS } from "./messages";
import { tlsPermanent } from "./tls";

/**
 * The retry layer of the Redfish client: which failed requests are sent again, how often, and after how long.
 * It decides on typed errors ({@link RedfishHttpError}) and never builds or sends a request itself.
 */

/** How many times and how fast a request is repeated. */
export interface RetryBudget {
  /** Attempts including the first. */
  readonly attempts: number;
  /** First backoff delay, ms (doubles up to {@link RetryBudget.maxDelayMs}). */
  readonly baseDelayMs: number;
  /** Largest backoff delay; also caps a BMC's Retry-After, ms. */
  readonly maxDelayMs: number;
}

/** The client's defaults: 5 attempts, 500 ms first delay, 10 s at most. */
export function retryBudget(opts: {
  readonly retryAttempts?: number;
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
}): RetryBudget {
  return {
    attempts: opts.retryAttempts ?? 5,
    baseDelayMs: opts.retryBaseDelayMs ?? 500,
    maxDelayMs: opts.retryMaxDelayMs ?? 10_000,
  };
}

/** Retry-After in ms (seconds or an HTTP date), or undefined. */
export function retryAfterMs(headers: Readonly<Record<string, string>>): number | undefined {
  const v = headers["retry-after"];
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

const retryAfterOf = new WeakMap<object, number>();

/** Remembers the Retry-After of the answer `err` was built from, so a retry waits at least that long. */
export function noteRetryAfter(
  err: RedfishHttpError,
  headers: Readonly<Record<string, string>>,
): RedfishHttpError {
  const ra = retryAfterMs(headers);
  if (ra !== undefined) retryAfterOf.set(err, ra);
  return err;
}

/** What decides whether one request is repeated. */
export interface RequestRetryPolicy {
  /** May be repeated after a network error or 5xx (GET/PATCH/DELETE by default, POST not). */
  readonly idempotent: boolean;
  /** A 409 is final even when its message says busy. */
  readonly conflictIsFinal?: boolean;
  readonly budget: RetryBudget;
  readonly log: Logger;
}

/**
 * Runs one request (`fn`, which throws {@link RedfishHttpError}) with bounded retries: a busy BMC (503 or a busy
 * message id) is retried for every method, a network error or 5xx only when the request is idempotent, a refused
 * certificate never. A Retry-After (capped by the budget) replaces the backoff delay.
 */
export function withRequestRetry<T>(fn: () => Promise<T>, policy: RequestRetryPolicy): Promise<T> {
  const { budget } = policy;
  return withRetry(fn, {
    attempts: budget.attempts,
    minDelayMs: budget.baseDelayMs,
    maxDelayMs: budget.maxDelayMs,
    retryOn: (err) => {
      if (!(err instanceof RedfishHttpError)) return false;
      if (err.status === 0 && !err.retryable && tlsPermanent(err.cause)) return false;
      if (policy.conflictIsFinal && err.status === 409) return false;
      const busy = err.status === 503 || BUSY_MESSAGE_IDS.some((id) => err.hasMessage(id));
      const ok = busy || (policy.idempotent && (err.status === 0 || err.status >= 500));
      if (!ok) return false;
      const ra = retryAfterOf.get(err);
      return ra !== undefined ? Math.min(ra, budget.maxDelayMs) : true;
    },
    onRetry: (err, attempt, delay) => {
      policy.log.info(`${err instanceof Error ? err.message : String(err)}; retry ${attempt} in ${delay} ms`);
    },
  });
}

/**
 * Runs a session login exchange (`fn` rejects only when no HTTP answer came) with the same budget: the network
 * is retried, a refused certificate is not. HTTP answers are the auth layer's to judge.
 */
export function withLoginRetry<T>(fn: () => Promise<T>, budget: RetryBudget): Promise<T> {
  return withRetry(fn, {
    attempts: budget.attempts,
    minDelayMs: budget.baseDelayMs,
    maxDelayMs: budget.maxDelayMs,
    retryOn: (err) => !tlsPermanent(err),
  });
}
