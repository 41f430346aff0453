import { afterAll, beforeAll } from "vitest";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import { type Lab, startLab } from "../sim-bmc/harness";

/** A sim-bmc lab for one suite, with the provider's log lines collected (call inside `describe`). */
export interface LabWithLogs {
  /** The lab (started before the suite's tests). */
  readonly lab: () => Lab;
  /** The provider's log lines since the last {@link LabWithLogs.clearLogs}. */
  readonly logs: () => string;
  readonly clearLogs: () => void;
}

/** Starts the lab and the log sink before the suite; restores the sink, closes pools and the lab after. */
export function labWithLogs(): LabWithLogs {
  let lab: Lab | undefined;
  let restore: (() => void) | undefined;
  let lines: string[] = [];
  beforeAll(async () => {
    lab = await startLab();
    restore = setLogSink((_level, line) => lines.push(line));
  }, 60_000);
  afterAll(async () => {
    restore?.();
    await closeAllPools();
    await lab?.close();
  });
  return {
    lab: () => {
      if (!lab) throw new Error("the lab is not started yet (use it inside a test)");
      return lab;
    },
    logs: () => lines.join("\n"),
    clearLogs: () => {
      lines = [];
    },
  };
}
