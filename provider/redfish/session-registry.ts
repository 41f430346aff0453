import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { localProcessAlive, processStartTime } from "../lifecycle/local-process";

/**
 * A record of the Redfish sessions this provider opened, one small file per session in a root-only directory,
 * so that sessions left behind by a provider process that died (kill -9, OOM, a crashed engine) are found and
 * deleted by the next run instead of piling up until the BMC refuses logins (BMCs allow a handful of sessions).
 *
 * A file holds the BMC origin, the user, the session URI and the owning process (pid and its start time, so a
 * reused pid is not mistaken for the owner). It never holds the session token: a stale session is deleted with
 * the new login's credentials (deleting one's own session needs no more than `ConfigureSelf`).
 *
 * Directory: `$PULUMI_DPU_STATE_DIR/bmc-sessions`, default `~/.pulumi-dpu/bmc-sessions`, mode 0700, files 0600.
 */

/** One recorded session. */
export interface RecordedSession {
  /** The file that records it (pass to {@link forgetSession}). */
  readonly file: string;
  readonly origin: string;
  readonly user: string;
  /** Session URI (path) on the BMC. */
  readonly uri: string;
  readonly pid: number;
  /** Start time of the owning process (`/proc/<pid>/stat` field 22), when known. */
  readonly pidStart?: string;
}

/** The directory of the records. */
export function sessionRegistryDir(): string {
  const base = process.env.PULUMI_DPU_STATE_DIR ?? path.join(os.homedir(), ".pulumi-dpu");
  return path.join(base, "bmc-sessions");
}

function keyOf(origin: string, user: string): string {
  return createHash("sha256").update(`${origin}\u0000${user}`).digest("hex").slice(0, 16);
}

/** True when the process that recorded `s` still runs (a zombie or a reused pid does not). */
function ownerAlive(s: Pick<RecordedSession, "pid" | "pidStart">): boolean {
  return localProcessAlive(s.pid, s.pidStart);
}

/**
 * Records a session this process just opened; returns its file, or undefined when the directory cannot be
 * written (the session then simply is not tracked; logout still ends it).
 */
export function recordSession(origin: string, user: string, uri: string): string | undefined {
  const dir = sessionRegistryDir();
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    const file = path.join(
      dir,
      `${keyOf(origin, user)}-${process.pid}-${randomBytes(6).toString("hex")}.json`,
    );
    const pidStart = processStartTime(process.pid);
    const body = JSON.stringify({ origin, user, uri, pid: process.pid, ...(pidStart ? { pidStart } : {}) });
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, body, { mode: 0o600 });
    fs.renameSync(tmp, file);
    return file;
  } catch {
    return undefined;
  }
}

/** Removes a record (the session was logged out, or found gone). Never throws. */
export function forgetSession(file: string | undefined): void {
  if (!file) return;
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // Nothing to do: a record left behind is only checked again.
  }
}

/** Sessions on `origin` for `user` whose owning process is gone. */
export function staleSessions(origin: string, user: string): RecordedSession[] {
  const dir = sessionRegistryDir();
  const prefix = `${keyOf(origin, user)}-`;
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith(prefix) && n.endsWith(".json"));
  } catch {
    return [];
  }
  const out: RecordedSession[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    try {
      const r = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<RecordedSession>;
      if (r.origin !== origin || r.user !== user || typeof r.uri !== "string" || typeof r.pid !== "number") {
        continue;
      }
      const s: RecordedSession = {
        file,
        origin,
        user,
        uri: r.uri,
        pid: r.pid,
        ...(typeof r.pidStart === "string" ? { pidStart: r.pidStart } : {}),
      };
      if (!ownerAlive(s)) out.push(s);
    } catch {
      // Unreadable or half-written: ignore.
    }
  }
  return out;
}
