import { isRedfishHttpError } from "../errors/redfish-http-error";
import { TimeoutError } from "../errors/timeout-error";
import { sleep } from "../lifecycle/retry";
import type { RedfishClient, RedfishResponse } from "./client";
import { type Json, RedfishTaskError, toMessage } from "./messages";
import { retryAfterMs } from "./retry";

/** Options of {@link waitForTask}. */
export interface TaskWaitOptions {
  /** What the task does, for messages ("install image via SimpleUpdate"). */
  readonly action: string;
  readonly timeoutMs: number;
  /** Poll interval when the BMC gives no Retry-After, ms. Default 1000. */
  readonly intervalMs?: number;
  /** Progress lines (task state, percent, elapsed). */
  readonly onProgress?: (line: string) => void;
}

const FAILED = new Set(["Exception", "Killed", "Cancelled", "Interrupted"]);
const RUNNING = new Set([
  "New",
  "Starting",
  "Running",
  "Suspended",
  "Pending",
  "Stopping",
  "Cancelling",
  "Service",
]);

function isTask(body: Json): boolean {
  return typeof body.TaskState === "string";
}

/** The task URI of a 202 answer: the Location header (a task monitor) or the Task's `@odata.id`. */
export function taskUriOf(res: RedfishResponse): string | undefined {
  const loc = res.headers.location;
  if (loc) return loc;
  if (isTask(res.body) && typeof res.body["@odata.id"] === "string") return res.body["@odata.id"];
  return undefined;
}

/**
 * Follows an asynchronous operation to its end. `res` is the answer to the request that started it:
 * 200/204 (synchronous) returns at once; 202 polls the task monitor (`Location`) honouring `Retry-After`, until
 * the monitor stops answering 202 and/or the Task reaches a final TaskState. A task that ends in Exception,
 * Killed or Cancelled rejects with a {@link RedfishTaskError} carrying the task's messages.
 */
export async function waitForTask(
  client: RedfishClient,
  res: RedfishResponse,
  opts: TaskWaitOptions,
): Promise<Json> {
  if (res.status !== 202) return res.body;
  const monitor = taskUriOf(res);
  if (!monitor) return res.body;
  const taskId =
    isTask(res.body) && typeof res.body["@odata.id"] === "string" ? res.body["@odata.id"] : undefined;
  const start = Date.now();
  let delay = retryAfterMs(res.headers) ?? opts.intervalMs ?? 1000;
  let last = "";
  for (;;) {
    const elapsed = Date.now() - start;
    if (elapsed > opts.timeoutMs) {
      const cancelled = await cancelTask(client, monitor, opts.action);
      throw new TimeoutError(
        `${opts.action} (task ${monitor})`,
        elapsed,
        [last, cancelled].filter((x) => x !== "").join("; "),
      );
    }
    await sleep(Math.min(delay, 10_000));
    let cur: RedfishResponse;
    try {
      cur = await client.get(monitor, { action: `${opts.action}: poll task`, idempotent: false });
    } catch (err) {
      // Some BMCs drop the monitor once the task ends; the Task resource itself still tells the outcome.
      const status = (err as { status?: unknown }).status;
      if (status === 404 && taskId && taskId !== monitor)
        cur = await client.get(taskId, { action: `${opts.action}: poll task` });
      else if (isRedfishHttpError(err) && err.status >= 400) {
        // The monitor answers with the operation's final response: here, its failure.
        throw new RedfishTaskError({
          action: opts.action,
          bmc: client.origin,
          taskUri: monitor,
          taskState: `Exception (HTTP ${err.status})`,
          messages: err.messages,
        });
      } else if (isRedfishHttpError(err) && err.status === 0) {
        // No answer (a dropped connection, a BMC's network blip): the task runs on regardless, so stopping
        // here would let it act behind the next run. Poll on until the timeout, which cancels it.
        const why = `no answer from the task monitor (${err.message})`;
        if (why !== last) opts.onProgress?.(`${opts.action}: ${why}; polling on`);
        last = why;
        continue;
      } else throw err;
    }
    const body = cur.body;
    const state = typeof body.TaskState === "string" ? body.TaskState : undefined;
    const pct = typeof body.PercentComplete === "number" ? ` ${body.PercentComplete}%` : "";
    const status = state ? `${state}${pct}` : `HTTP ${cur.status}`;
    if (status !== last) {
      opts.onProgress?.(`${opts.action}: task ${status} after ${Math.round((Date.now() - start) / 1000)}s`);
      last = status;
    }
    if (state && FAILED.has(state)) {
      const messages = (Array.isArray(body.Messages) ? body.Messages : [])
        .map(toMessage)
        .filter((m) => m !== undefined);
      throw new RedfishTaskError({
        action: opts.action,
        bmc: client.origin,
        taskUri: monitor,
        taskState: state,
        messages,
      });
    }
    if (state === "Completed") {
      const ts = body.TaskStatus;
      if (ts === "Critical") {
        const messages = (Array.isArray(body.Messages) ? body.Messages : [])
          .map(toMessage)
          .filter((m) => m !== undefined);
        throw new RedfishTaskError({
          action: opts.action,
          bmc: client.origin,
          taskUri: monitor,
          taskState: "Completed/Critical",
          messages,
        });
      }
      return body;
    }
    if (cur.status === 202 || (state !== undefined && RUNNING.has(state))) {
      delay = retryAfterMs(cur.headers) ?? opts.intervalMs ?? 1000;
      continue;
    }
    // A monitor that stopped answering 202 returns the operation's final response.
    return body;
  }
}

/**
 * Asks the BMC to cancel a task we stopped waiting for (DSP0266: DELETE on the task monitor), so that it cannot
 * act later, behind the next run: an insert that lands after the re-run ejected, an update that flashes late.
 * Returns what happened, in words for the timeout error; never throws.
 */
async function cancelTask(client: RedfishClient, monitor: string, action: string): Promise<string> {
  try {
    const res = await client.delete(monitor, { action: `${action}: cancel the task` });
    return `cancelled the task (HTTP ${res.status})`;
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    const words = err instanceof Error ? err.message : String(err);
    if (status === 404) return "the task monitor is gone";
    return `the BMC did not cancel the task, it may still finish: ${words}`;
  }
}
