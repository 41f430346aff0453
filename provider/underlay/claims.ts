import { DpuError } from "../errors";
import type { SshSession } from "../ssh/types";
import { claimedInterfaces, type UnderlayRecord } from "./record";
import { RECORD_DIR, RECORDS_SCRIPT } from "./scripts";

/** An underlay record found on the DPU, by resource id. */
export interface RecordOnDpu {
  readonly id: string;
  readonly record: UnderlayRecord;
}

/** The DPU holds this underlay, or one of its interfaces, for another owner: nothing was changed. */
export class UnderlayOwnedError extends DpuError {
  constructor(message: string) {
    super("DPU_UNDERLAY_OWNED", message, { retryable: false });
    this.name = "UnderlayOwnedError";
  }
}

/** Every underlay record on the DPU (unreadable ones are skipped). */
export async function readAllRecords(session: SshSession): Promise<RecordOnDpu[]> {
  const r = await session.run(["sh", "-c", RECORDS_SCRIPT, "pulumi-dpu-records", RECORD_DIR], {
    describe: "underlay records",
    timeoutMs: 30_000,
  });
  return r.stdout.split("\n").flatMap((line) => {
    const tab = line.indexOf("\t");
    if (tab < 0) return [];
    const id = line.slice(0, tab).replace(/\.json$/, "");
    try {
      const record = JSON.parse(line.slice(tab + 1)) as UnderlayRecord;
      return record && typeof record === "object" && record.links ? [{ id, record }] : [];
    } catch {
      return [];
    }
  });
}

export { ownerName } from "../lifecycle/owner-name";

/**
 * Why this writer may not take underlay `id`: its record on the DPU names another owner (`allowed`: the owners
 * this writer may act as — the incoming one, and on update the one in state). A record without owner (older
 * version) is adopted. Undefined when allowed.
 */
export function recordOwnerConflict(
  existing: UnderlayRecord | undefined,
  allowed: readonly (string | undefined)[],
): string | undefined {
  if (existing?.owner === undefined) return undefined;
  if (allowed.includes(existing.owner)) return undefined;
  return existing.owner;
}

/**
 * The first other underlay whose record claims one of `interfaces`, with the shared interfaces, or undefined.
 */
export function interfaceClaimConflict(
  id: string,
  interfaces: readonly string[],
  all: readonly RecordOnDpu[],
): { other: RecordOnDpu; shared: string[] } | undefined {
  for (const other of all) {
    if (other.id === id) continue;
    const theirs = new Set(claimedInterfaces(other.record));
    const shared = interfaces.filter((i) => theirs.has(i));
    if (shared.length > 0) return { other, shared };
  }
  return undefined;
}
