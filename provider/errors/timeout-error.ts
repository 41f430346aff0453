import { DpuError } from "./dpu-error";

/** A wait (BootProgress, task, SSH probe, health check) did not finish in time. */
export class TimeoutError extends DpuError {
  /** What was being waited for, e.g. `BootProgress OSRunning`. */
  readonly waitingFor: string;
  /** How long we waited, in ms. */
  readonly elapsedMs: number;

  constructor(waitingFor: string, elapsedMs: number, detail?: string, options?: { cause?: unknown }) {
    super(
      "DPU_TIMEOUT",
      `timed out after ${Math.round(elapsedMs / 1000)}s waiting for ${waitingFor}${detail ? ` (${detail})` : ""}`,
      { ...options, retryable: true },
    );
    this.name = "TimeoutError";
    this.waitingFor = waitingFor;
    this.elapsedMs = elapsedMs;
  }
}
