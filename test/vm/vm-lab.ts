import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Why the VM lab cannot run here, or `undefined`. Under CI a missing prerequisite fails instead of skipping. */
export function vmLabUnavailable(): string | undefined {
  let reason: string | undefined;
  if (process.platform !== "linux") reason = "the VM lab needs Linux";
  else if (typeof process.getuid !== "function" || process.getuid() !== 0) reason = "the VM lab needs root";
  else if (!existsSync("/dev/net/tun")) reason = "the VM lab needs /dev/net/tun";
  else {
    try {
      execFileSync("qemu-system-x86_64", ["--version"], { stdio: "ignore" });
    } catch {
      reason = "qemu-system-x86_64 is missing (apt-get install qemu-system-x86 ovmf)";
    }
  }
  if (reason && process.env.CI) throw new Error(`VM lab tests cannot run: ${reason}`);
  if (reason) console.warn(`skipping VM lab tests: ${reason}`);
  return reason;
}

/** Elapsed-time log lines for the closing report (printed at the end of the file). */
export const timings: string[] = [];

/** Records `label: <ms>` and returns the ms. */
export function mark(label: string, since: number): number {
  const ms = Date.now() - since;
  timings.push(`${label}: ${(ms / 1000).toFixed(1)} s`);
  return ms;
}
