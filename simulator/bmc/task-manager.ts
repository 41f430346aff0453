import { errorBody, message, type RedfishMessage } from "./errors";
import { Cancelled, sleep } from "./sleep";
import { type BmcState, nowIso, type TaskRecord } from "./state";

/** Thrown by a task body to end the task in `Exception`. */
export class TaskFailure extends Error {
  constructor(
    readonly redfish: RedfishMessage,
    /** Status the task monitor answers once the task has ended. */
    readonly httpStatus = 400,
  ) {
    super(redfish.Message);
  }
}

/** What a running task body can do. */
export interface TaskHandle {
  readonly task: TaskRecord;
  progress(percent: number): void;
  /** Resolves once the task has run for at least the fault's `taskDelayMs`. */
  minDuration(): Promise<void>;
}

/** Creates and runs tasks; honours the task faults. */
export class TaskManager {
  readonly tasks = new Map<string, TaskRecord>();
  private readonly cancels = new Map<string, AbortController>();
  private nextId = 1;

  constructor(
    private readonly state: BmcState,
    private readonly signal: AbortSignal,
    /** Task id of the n-th task (default: `n`); Dell-style BMCs use job ids such as `JID_…`. */
    private readonly idOf: (n: number) => string = String,
  ) {}

  /** Starts a task now; the body runs asynchronously. */
  start(name: string, targetUri: string, body: (h: TaskHandle) => Promise<void>): TaskRecord {
    const task: TaskRecord = {
      id: this.idOf(this.nextId++),
      name,
      state: "Running",
      status: "OK",
      percent: 0,
      startTime: nowIso(),
      messages: [],
      targetUri,
    };
    this.tasks.set(task.id, task);
    const cancel = new AbortController();
    this.cancels.set(task.id, cancel);
    const signal = AbortSignal.any([this.signal, cancel.signal]);
    const started = Date.now();
    const delay = this.state.faults.taskDelayMs;
    const injectedFailure = this.state.faults.taskFailCount > 0;
    if (injectedFailure) this.state.faults.taskFailCount--;
    const handle: TaskHandle = {
      task,
      progress: (p) => {
        task.percent = Math.max(task.percent, Math.min(99, Math.round(p)));
      },
      minDuration: () => sleep(delay - (Date.now() - started), signal),
    };
    const run = async () => {
      if (injectedFailure) {
        await handle.minDuration();
        throw new TaskFailure(
          { ...message("OperationFailed"), Resolution: "Simulated task failure (taskFailCount fault)." },
          500,
        );
      }
      await body(handle);
      await handle.minDuration();
    };
    run().then(
      () => {
        if (!cancel.signal.aborted) this.finish(task, "Completed", message("Success"), 200);
      },
      (err: unknown) => {
        if (err instanceof Cancelled && signal.aborted) return;
        if (err instanceof TaskFailure) this.finish(task, "Exception", err.redfish, err.httpStatus);
        else {
          const text = err instanceof Error ? err.message : String(err);
          this.finish(task, "Exception", { ...message("GeneralError"), Resolution: text }, 500);
        }
      },
    );
    return task;
  }

  /**
   * Cancels a running task (DELETE on its task monitor): its body stops at its next wait and what it had not yet
   * done is never done. False when the task is not running (already ended, or unknown).
   */
  cancel(id: string): boolean {
    const task = this.tasks.get(id);
    const ctrl = this.cancels.get(id);
    if (!task || !ctrl || task.result) return false;
    ctrl.abort();
    this.finish(task, "Cancelled", message("Success"), 200);
    return true;
  }

  private finish(
    task: TaskRecord,
    state: "Completed" | "Exception" | "Cancelled",
    msg: RedfishMessage,
    status: number,
  ): void {
    task.state = state;
    this.cancels.delete(task.id);
    task.status = state === "Exception" ? "Critical" : state === "Cancelled" ? "Warning" : "OK";
    if (state === "Completed") task.percent = 100;
    task.endTime = nowIso();
    task.messages.push(msg);
    task.result = state === "Exception" ? { status, body: errorBody([msg]) } : { status: 200 };
  }
}
