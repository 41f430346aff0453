import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { procStartTime } from "../dpu/procfs";
import { MAX_SLOTS } from "./address-plan";
import { slotNamespaces, slotRootLinks, teardownSlot } from "./network";

/** Directory of the slot lock files. */
export const LOCK_DIR = "/run/pulumi-dpu-sim";

/** What a slot lock file records about its owner. */
export interface SlotLock {
  readonly pid: number;
  /** Start time of `pid` (guards against pid reuse). */
  readonly startTime?: string;
  readonly stateDir: string;
  /** True when the lab created `stateDir` and removes it whole; else only `stateEntries` are removed. */
  readonly ownsStateDir: boolean;
  readonly stateEntries: readonly string[];
}

/** A slot held by this process. */
export interface SlotHandle {
  readonly slot: number;
  readonly lockFile: string;
  /** Removes the lock file (idempotent). */
  release(): void;
}

function lockPath(slot: number): string {
  return join(LOCK_DIR, `slot-${slot}.lock`);
}

function readLock(path: string): SlotLock | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as SlotLock;
  } catch {
    return undefined;
  }
}

/** True when the lock's owner process is gone (or the pid now belongs to another process). */
export function lockIsStale(lock: SlotLock | undefined): boolean {
  if (!lock || !Number.isInteger(lock.pid)) return true;
  const start = procStartTime(lock.pid);
  if (start === undefined) return true;
  return lock.startTime !== undefined && lock.startTime !== start;
}

async function removeState(lock: SlotLock | undefined): Promise<void> {
  if (!lock?.stateDir) return;
  if (lock.ownsStateDir) {
    await rm(lock.stateDir, { recursive: true, force: true });
  } else {
    for (const e of lock.stateEntries ?? [])
      await rm(join(lock.stateDir, e), { recursive: true, force: true });
  }
}

/**
 * Cleans every stale slot: its lock owner is dead, so its processes, namespaces, links and state directory are
 * removed and the lock is deleted. Returns the slots cleaned.
 */
export async function cleanStaleSlots(): Promise<number[]> {
  const cleaned: number[] = [];
  let names: string[];
  try {
    names = readdirSync(LOCK_DIR);
  } catch {
    return cleaned;
  }
  for (const n of names) {
    const m = /^slot-(\d+)\.lock$/.exec(n);
    if (!m) continue;
    const slot = Number(m[1]);
    const path = join(LOCK_DIR, n);
    if (!lockIsStale(readLock(path))) continue;
    // Claim the stale lock by renaming it: only one cleaner wins.
    const claimed = `${path}.cleaning-${process.pid}`;
    try {
      renameSync(path, claimed);
    } catch {
      continue;
    }
    const lock = readLock(claimed);
    if (!lockIsStale(lock)) {
      // Lost a race with a fresh owner: give the lock back.
      try {
        linkSync(claimed, path);
      } catch {
        // the owner will notice nothing; its objects are its own
      }
      unlinkSync(claimed);
      continue;
    }
    try {
      await teardownSlot(slot);
      await removeState(lock);
    } finally {
      try {
        unlinkSync(claimed);
      } catch {
        // already gone
      }
    }
    cleaned.push(slot);
  }
  return cleaned;
}

/**
 * Takes the lowest free slot: writes `slot-<n>.lock` atomically (written aside, then hard-linked into place).
 * Leftover kernel objects of a slot without a lock are removed before it is used.
 */
export async function acquireSlot(info: Omit<SlotLock, "pid" | "startTime">): Promise<SlotHandle> {
  mkdirSync(LOCK_DIR, { recursive: true, mode: 0o755 });
  await cleanStaleSlots();
  const lock: SlotLock = { pid: process.pid, startTime: procStartTime(process.pid), ...info };
  const tmp = join(LOCK_DIR, `.new-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(tmp, `${JSON.stringify(lock)}\n`, { mode: 0o644 });
  try {
    for (let slot = 0; slot < MAX_SLOTS; slot++) {
      const path = lockPath(slot);
      try {
        linkSync(tmp, path);
      } catch {
        continue;
      }
      if (slotNamespaces(slot).length > 0 || slotRootLinks(slot).length > 0) await teardownSlot(slot);
      let released = false;
      return {
        slot,
        lockFile: path,
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    }
  } finally {
    unlinkSync(tmp);
  }
  throw new Error(`no free lab slot (all ${MAX_SLOTS} in use; see ${LOCK_DIR})`);
}
