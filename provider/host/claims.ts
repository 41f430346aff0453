import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DpuError } from "../errors/dpu-error";
import { localProcessAlive, processStartTime } from "../lifecycle/local-process";
import { sessionRegistryDir } from "../redfish/session-registry";

/**
 * One writer per DPU: a DpuHost claims the ComputerSystem it drives, keyed by BMC origin and system id, so that
 * two resources naming the same DPU (two stacks, or two resources of one stack) cannot undo each other's image.
 *
 * Two records per system, next to the Redfish session records (`$PULUMI_DPU_STATE_DIR/host-claims`, default
 * `~/.pulumi-dpu/host-claims`, mode 0700, files 0600, written atomically):
 * - `<key>.owner.json`: the owner (`<project>/<stack>/<name>`, set by the SDK) that holds the system. Written
 *   before the first change an operation makes, kept across runs, removed by that resource's delete. A claim
 *   without an owner (the provider used without the SDK) binds no one.
 * - `<key>.lock`: the operation under way (owner, action, pid and its start time). Created exclusively; one
 *   left by a process of this machine that is gone is taken over. In-process operations are tracked in memory.
 *
 * Not covered: two machines driving one BMC (each has its own records).
 */

/** What an operation declares about itself. */
export interface ClaimRequest {
  /** BMC endpoint (only its origin is used). */
  readonly endpoint: string;
  /** The system as the inputs or the state name it (id or path); undefined: the BMC's default system. */
  readonly system: string | undefined;
  /** The owner of the resource (undefined without the SDK). */
  readonly owner: string | undefined;
  /** Owners this operation may take the claim from (an update's owner in state: a hand-over). */
  readonly previousOwner?: string;
  readonly action: "create" | "update" | "delete";
}

interface LockBody {
  readonly origin: string;
  readonly system: string;
  readonly owner?: string;
  readonly action: string;
  readonly pid: number;
  readonly pidStart?: string;
  readonly host: string;
  readonly since: string;
}

interface OwnerBody {
  readonly origin: string;
  readonly system: string;
  readonly owner: string;
  readonly since: string;
}

/** The directory of the claim records. */
export function claimDir(): string {
  return path.join(path.dirname(sessionRegistryDir()), "host-claims");
}

/** The system's id as a claim key: the last path segment of an id or a path. */
function systemKey(system: string | undefined): string {
  if (!system) return "";
  const seg = system.replace(/\/+$/, "").split("/").pop() ?? system;
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return endpoint;
  }
}

function fileBase(origin: string, system: string): string {
  return path.join(
    claimDir(),
    createHash("sha256").update(`${origin}\u0000${system}`).digest("hex").slice(0, 24),
  );
}

/** Operations of this process under way, by lock file. */
const active = new Map<string, LockBody>();

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

function describeSystem(origin: string, system: string): string {
  return system ? `system ${system} of BMC ${origin}` : `the default system of BMC ${origin}`;
}

function holderText(h: LockBody): string {
  const who = h.owner ? `DpuHost ${h.owner}` : "another DpuHost (no owner)";
  const where =
    h.pid === process.pid && h.host === os.hostname() ? "this provider" : `pid ${h.pid} on ${h.host}`;
  return `${who} (${h.action} under way since ${h.since}, ${where})`;
}

/** Whether a lock's process is gone (only decidable for a process of this machine). */
function lockStale(h: LockBody, file: string): boolean {
  if (h.host !== os.hostname()) return false;
  if (h.pid === process.pid) return !active.has(file);
  return !localProcessAlive(h.pid, h.pidStart);
}

/**
 * A DpuHost operation's hold on the systems it touches. {@link beginClaim} takes the system the inputs name;
 * {@link HostClaim.bind} the one discovery found; {@link HostClaim.end} lets go of the operation's locks.
 */
export class HostClaim {
  private readonly origin: string;
  private readonly locks: string[] = [];
  private readonly checked = new Set<string>();
  private readonly recorded: string[] = [];

  constructor(private readonly req: ClaimRequest) {
    this.origin = originOf(req.endpoint);
  }

  /** Takes the operation lock on `system` and checks its owner; throws `DPU_HOST_CLAIMED` when another holds it. */
  hold(system: string | undefined): void {
    const key = systemKey(system);
    if (this.checked.has(key)) return;
    const base = fileBase(this.origin, key);
    this.lock(`${base}.lock`, key);
    this.checked.add(key);
    // The default system: its owner is checked once discovery names it. A delete asks claimedByOther instead.
    if (key === "" || this.req.action === "delete") return;
    const claim = readJson<OwnerBody>(`${base}.owner.json`);
    const mine = this.req.owner;
    if (!claim?.owner || claim.owner === mine || claim.owner === this.req.previousOwner) return;
    throw new DpuError(
      "DPU_HOST_CLAIMED",
      `${describeSystem(this.origin, key)} is claimed by DpuHost ${claim.owner} (since ${claim.since})${
        mine ? `, not by ${mine}` : " and this resource has no owner"
      }; nothing was changed. One DpuHost per DPU: delete that resource (its delete releases the claim), or, if it no longer exists, remove ${base}.owner.json`,
    );
  }

  /** After discovery: holds the system it found (when the inputs did not name it) and records the owner. */
  bind(system: string): void {
    this.hold(system);
    this.record(system);
  }

  /** Records this resource's owner as the holder of `system` (before the first change). */
  record(system: string): void {
    const owner = this.req.owner;
    const key = systemKey(system);
    if (!owner || key === "") return;
    const file = `${fileBase(this.origin, key)}.owner.json`;
    const prev = readJson<OwnerBody>(file);
    if (prev?.owner === owner) return;
    const body: OwnerBody = { origin: this.origin, system: key, owner, since: new Date().toISOString() };
    if (writeAtomic(file, JSON.stringify(body)) && !prev) this.recorded.push(file);
  }

  /** Whether `system` is claimed by an owner other than this resource's (a delete then leaves it alone). */
  claimedByOther(system: string): string | undefined {
    const claim = readJson<OwnerBody>(`${fileBase(this.origin, systemKey(system))}.owner.json`);
    return claim?.owner && claim.owner !== this.req.owner ? claim.owner : undefined;
  }

  /** Removes this resource's claim on `system` (delete). A claim of another owner stays. */
  release(system: string): void {
    const file = `${fileBase(this.origin, systemKey(system))}.owner.json`;
    const claim = readJson<OwnerBody>(file);
    if (claim && claim.owner !== this.req.owner) return;
    fs.rmSync(file, { force: true });
  }

  /**
   * Ends the operation: its locks are removed. `failedWithoutResource`: the operation failed and left no
   * resource (no partial state), so a claim it recorded is withdrawn.
   */
  end(failedWithoutResource: boolean): void {
    if (failedWithoutResource) for (const f of this.recorded) fs.rmSync(f, { force: true });
    for (const f of this.locks) {
      active.delete(f);
      const h = readJson<LockBody>(f);
      if (h && h.pid === process.pid) fs.rmSync(f, { force: true });
    }
    this.locks.length = 0;
  }

  private lock(file: string, key: string): void {
    const mine = active.get(file);
    if (mine) throw this.busy(mine, key);
    const pidStart = processStartTime(process.pid);
    const body: LockBody = {
      origin: this.origin,
      system: key,
      ...(this.req.owner ? { owner: this.req.owner } : {}),
      action: this.req.action,
      pid: process.pid,
      ...(pidStart ? { pidStart } : {}),
      host: os.hostname(),
      since: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.mkdirSync(claimDir(), { recursive: true, mode: 0o700 });
        fs.writeFileSync(file, JSON.stringify(body), { flag: "wx", mode: 0o600 });
      } catch (err) {
        // A directory that cannot be written (read-only home): the claim holds within this process only.
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
          active.set(file, body);
          this.locks.push(file);
          return;
        }
        const holder = readJson<LockBody>(file);
        if (holder && !lockStale(holder, file)) throw this.busy(holder, key);
        // Unreadable and new: another process is writing it (create, then write); read it again shortly.
        if (!holder && ageMs(file) < 5_000) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
          continue;
        }
        takeOver(file, holder);
        continue;
      }
      active.set(file, body);
      this.locks.push(file);
      return;
    }
    const last = readJson<LockBody>(file);
    throw this.busy(last ?? { ...body, pid: 0, host: "?", action: "an operation" }, key);
  }

  private busy(holder: LockBody, key: string): DpuError {
    return new DpuError(
      "DPU_HOST_CLAIMED",
      `${describeSystem(this.origin, key)} is held by ${holderText(holder)}; nothing was changed. One DpuHost per DPU: two resources must not name the same system`,
      { retryable: true },
    );
  }
}

/** Moves a stale lock aside (atomically); a lock that turns out live after the move is put back. */
function takeOver(file: string, seen: LockBody | undefined): void {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // gone already: the next exclusive create decides
  }
  const moved = readJson<LockBody>(aside);
  if (moved && seen && (moved.pid !== seen.pid || moved.since !== seen.since)) {
    try {
      fs.linkSync(aside, file); // another process took it over meanwhile: its lock stays
    } catch {
      // a third lock exists: the exclusive create decides
    }
  }
  fs.rmSync(aside, { force: true });
}

/** How long ago `file` was last written, ms (infinite when it is gone). */
function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function writeAtomic(file: string, text: string): boolean {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
    return true;
  } catch {
    return false;
  }
}

/** Starts a claimed operation: holds the system the request names (throws `DPU_HOST_CLAIMED` if another does). */
export function beginClaim(req: ClaimRequest): HostClaim {
  const claim = new HostClaim(req);
  try {
    claim.hold(req.system);
  } catch (err) {
    claim.end(false);
    throw err;
  }
  return claim;
}
