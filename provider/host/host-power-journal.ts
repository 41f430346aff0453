import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DpuError } from "../errors/dpu-error";
import { KeyedMutex } from "../lifecycle/keyed-mutex";
import { localProcessAlive, processStartTime } from "../lifecycle/local-process";
import { sessionRegistryDir } from "../redfish/session-registry";

/**
 * The host power cycle in progress, on disk: a run that powered the host server off and was then killed (or lost
 * its host BMC) must not leave the host Off when it was found On. Before the first power transition the power
 * state the host was found in is written to `$PULUMI_DPU_STATE_DIR/host-power/<key>.json` (mode 0700/0600, no
 * credentials), and removed once the host is back in that state. The next cycle of the same host takes the
 * recorded state as the one to leave it in. A record of a live process of this machine other than this one is a
 * cycle under way: refused, naming it. In-process, cycles of one host server run one at a time.
 */
export interface HostCycleRecord {
  readonly origin: string;
  readonly path: string;
  /** The power state the host was found in before the interrupted cycle. */
  readonly found: "On" | "Off";
  readonly pid: number;
  readonly pidStart?: string;
  readonly host: string;
  readonly since: string;
}

const hostLocks = new KeyedMutex();

/** Runs `fn` holding this process's lock of the host server at `origin` (one power cycle at a time). */
export function withHostServerLock<T>(origin: string, fn: () => Promise<T>): Promise<T> {
  return hostLocks.run(origin, fn);
}

function recordFile(origin: string, system: string): string {
  const key = createHash("sha256").update(`${origin}\u0000${system}`).digest("hex").slice(0, 24);
  return path.join(path.dirname(sessionRegistryDir()), "host-power", `${key}.json`);
}

/**
 * The cycle an earlier run left unfinished on this host's system, or undefined. Throws when a live process of
 * this machine other than this one is cycling it now.
 */
export function unfinishedCycle(origin: string, system: string): HostCycleRecord | undefined {
  let rec: HostCycleRecord;
  try {
    rec = JSON.parse(fs.readFileSync(recordFile(origin, system), "utf8")) as HostCycleRecord;
  } catch {
    return undefined;
  }
  if (rec.found !== "On" && rec.found !== "Off") return undefined;
  if (rec.pid !== process.pid && rec.host === os.hostname() && localProcessAlive(rec.pid, rec.pidStart))
    throw new DpuError(
      "DPU_HOST_POWER_BUSY",
      `power-cycle the host server (${system} on BMC ${origin}): provider process ${rec.pid} has been power-cycling it since ${rec.since}; nothing was sent; run again once it has finished`,
    );
  return rec;
}

/** Records the cycle about to start (`found`: the power state to leave the host in). */
export function beginCycle(origin: string, system: string, found: "On" | "Off"): void {
  const file = recordFile(origin, system);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const start = processStartTime(process.pid);
  const rec: HostCycleRecord = {
    origin,
    path: system,
    found,
    pid: process.pid,
    ...(start ? { pidStart: start } : {}),
    host: os.hostname(),
    since: new Date().toISOString(),
  };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(rec), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The cycle finished: the host is back in the state it was found in. */
export function endCycle(origin: string, system: string): void {
  fs.rmSync(recordFile(origin, system), { force: true });
}
