import { unavailable } from "../capabilities";

/** Why the VM lab cannot run here, or `undefined`. Under CI a missing prerequisite fails instead of skipping. */
export function vmLabUnavailable(): string | undefined {
  return unavailable("VM lab tests", "vm");
}

/** Elapsed-time log lines for the closing report (printed at the end of the file). */
export const timings: string[] = [];

/** Records `label: <ms>` and returns the ms. */
export function mark(label: string, since: number): number {
  const ms = Date.now() - since;
  timings.push(`${label}: ${(ms / 1000).toFixed(1)} s`);
  return ms;
}
