import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AttachedMedium } from "../../contracts";
import { readIsoFiles } from "./iso-files";
import { type NoCloudFiles, parseNoCloud } from "./nocloud";
import type { DayZeroIdentity } from "./types";

/** NoCloud seed directories on the disk (cloud-init reads them before looking for a `cidata` volume). */
export const DISK_SEED_DIRS = ["var/lib/cloud/seed/nocloud", "var/lib/cloud/seed/nocloud-net"] as const;
/** The NoCloud volume labels cloud-init accepts. */
const CIDATA_LABELS = ["cidata", "CIDATA"];
const SEED_FILES = ["meta-data", "user-data", "network-config"] as const;

function noCloudFiles(get: (name: string) => Buffer | undefined): NoCloudFiles {
  const text = (n: string) => get(n)?.toString("utf8");
  const meta = text("meta-data");
  const user = text("user-data");
  const net = text("network-config");
  return {
    ...(meta !== undefined ? { metaData: meta } : {}),
    ...(user !== undefined ? { userData: user } : {}),
    ...(net !== undefined ? { networkConfig: net } : {}),
  };
}

/** A later seed's fields over an earlier one's (cloud-init merges the seed directory with a `cidata` volume). */
function merge(a: DayZeroIdentity, b: DayZeroIdentity): DayZeroIdentity {
  return {
    ...a,
    ...b,
    source: `${a.source} + ${b.source}`,
    files: [...a.files, ...b.files],
    notes: [...a.notes, ...b.notes],
  };
}

/**
 * The Day-0 seed a booting DPU finds, as cloud-init's NoCloud datasource looks for one: a seed directory on its
 * disk (where a BFB's bf.cfg may leave one), then a volume labelled `cidata` among the media the BMC attached
 * (the medium wins where both set a field). `undefined` when there is none. `notes` gets media that are not
 * seeds or cannot be read.
 */
export async function findSeed(
  upper: string,
  media: readonly AttachedMedium[],
  notes: string[],
): Promise<DayZeroIdentity | undefined> {
  let found: DayZeroIdentity | undefined;
  for (const dir of DISK_SEED_DIRS) {
    const files = new Map<string, Buffer>();
    for (const name of SEED_FILES) {
      const bytes = await readFile(join(upper, dir, name)).catch(() => undefined);
      if (bytes) files.set(name, bytes);
    }
    if (files.size === 0) continue;
    const id = parseNoCloud(
      noCloudFiles((n) => files.get(n)),
      `/${dir}`,
    );
    found = found ? merge(found, id) : id;
  }
  for (const m of media) {
    let contents: Awaited<ReturnType<typeof readIsoFiles>>;
    try {
      contents = await readIsoFiles(m.bytes, SEED_FILES);
    } catch (e) {
      notes.push(`medium ${m.slot}: not a NoCloud seed (${e instanceof Error ? e.message : String(e)})`);
      continue;
    }
    if (!CIDATA_LABELS.includes(contents.label)) {
      notes.push(`medium ${m.slot}: volume ${contents.label} is not a NoCloud seed (label cidata)`);
      continue;
    }
    const id = parseNoCloud(
      noCloudFiles((n) => contents.files.get(n)),
      `cidata medium ${m.slot}`,
    );
    found = found ? merge(found, id) : id;
  }
  return found;
}
