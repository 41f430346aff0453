import * as fs from "node:fs";

/**
 * What /proc says of a process of this machine: its state letter and start time (clock ticks since boot), or
 * undefined where it does not exist or /proc is not available.
 */
function procStat(pid: number): { state: string; start: string | undefined } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: the fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0] ?? "", start: rest[19] };
  } catch {
    return undefined;
  }
}

/** Start time of process `pid` in clock ticks since boot (`/proc/<pid>/stat` field 22), when known. */
export function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.start;
}

/**
 * True while process `pid` of this machine runs. A zombie (killed, not yet reaped by its parent) does not run:
 * `kill(pid, 0)` alone says it does. With `start`, a reused pid whose start time differs is not the same process.
 */
export function localProcessAlive(pid: number, start?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = procStat(pid);
  if (stat === undefined) return true; // no /proc: kill(0) is all we know
  if (stat.state === "Z" || stat.state === "X") return false;
  return start === undefined || stat.start === undefined || stat.start === start;
}
