import { isRedfishHttpError } from "../errors/redfish-http-error";
import { type Logger, redact } from "../log";
import { discover, ejectMedia, type RedfishClient, readSlotFresh, type VirtualMediaSlot } from "../redfish";
import { openStage } from "../stage";
import { SEED_OBJECT_NAME } from "./deliver";
import type { DpuHostOutputs, IdentitySeedRecord } from "./inputs.schema";

/** The seed an install left recorded: a NoCloud volume (the only seed that goes into a slot). */
export type SlotSeed = Pick<IdentitySeedRecord, "kind" | "sha256">;

/**
 * True when `image` (a slot's `Image`: a URL, or only the file name on some BMCs) is the seed volume `seed` names:
 * the stage serves it content addressed as `<sha256>-cidata.iso`, so the name says it is ours whatever the stage's
 * base URL was. Media of anyone else never carry that name.
 */
export function isOurSeed(image: string | undefined, seed: SlotSeed): boolean {
  if (seed.kind !== "cidata" || image === undefined) return false;
  return imageFileName(image) === `${seed.sha256}-${SEED_OBJECT_NAME}`;
}

/**
 * True when `image` (a slot's `Image`) is a NoCloud seed volume DpuHost delivered, whichever DPU's or run's: only
 * DpuHost's stage names objects `<sha256>-cidata.iso`. Anything else in a slot is someone else's media.
 */
export function isSeedVolume(image: string | undefined): boolean {
  return image !== undefined && SEED_VOLUME_NAME.test(imageFileName(image));
}

const SEED_VOLUME_NAME = new RegExp(`^[0-9a-f]{64}-${SEED_OBJECT_NAME.replace(/[.]/g, "\\.")}$`);

/** The decoded file name of a slot's `Image`: a URL, or only the file name on some BMCs. */
function imageFileName(image: string): string {
  let path = image;
  try {
    path = new URL(image).pathname;
  } catch {
    // a bare file name
  }
  try {
    return decodeURIComponent(path.split("/").pop() ?? "");
  } catch {
    return path.split("/").pop() ?? "";
  }
}

/**
 * Ejects `seed` from every slot of `slots` that holds it, as a stopped install may have left it (the seed holds
 * secrets, and the stage that served it is gone). Each slot is read again first (the listing may be older than an
 * insert), and only our seed is ejected: media put in by anyone else stay. Returns the ids of the slots ejected.
 * A slot that is gone (404) holds nothing.
 */
export async function ejectLeftSeed(
  client: RedfishClient,
  slots: readonly VirtualMediaSlot[],
  seed: SlotSeed,
  log?: Logger,
): Promise<string[]> {
  const ejected: string[] = [];
  const gone = (err: unknown): undefined => {
    if (isRedfishHttpError(err) && err.status === 404) return undefined;
    throw err;
  };
  for (const listed of slots) {
    const slot = await readSlotFresh(client, listed).catch(gone);
    if (!slot?.inserted || !isOurSeed(slot.image, seed)) continue;
    const image = slot.image as string;
    const after = await ejectMedia(client, slot, { timeoutMs: 60_000, onlyImage: image, fresh: true }).catch(
      gone,
    );
    if (after && !after.inserted) {
      ejected.push(slot.id);
      log?.info(
        `identity: ejected the NoCloud seed ${seed.sha256.slice(0, 12)}… from virtual media ${slot.id}`,
      );
    }
  }
  return ejected;
}

/**
 * {@link ejectLeftSeed} on system `systemPath`, its slots read first (every slot: the seed went into a second
 * one, which state does not keep). For delete, which otherwise reads only the install slot.
 */
export async function ejectLeftSeedOn(
  client: RedfishClient,
  systemPath: string,
  seed: SlotSeed,
  log?: Logger,
): Promise<string[]> {
  const caps = await discover(client, { systemId: systemPath, minimalReads: true });
  return ejectLeftSeed(client, caps.virtualMedia.slots, seed, log);
}

/**
 * Removes the seed volume a stopped install may have left on an upload stage (`httpPut`, `sftp`): a provider that
 * was killed never reached its own clean-up, and the seed holds secrets. Only for a partial state (an install that
 * stopped) with a NoCloud seed; nothing for the built-in stage, whose objects lived in the process that served
 * them. A stage it cannot reach is logged, not raised: the next install (which needs the stage anyway, and says
 * so) or a delete goes on.
 */
export async function removeLeftStagedSeed(
  state: Pick<DpuHostOutputs, "installPending" | "identitySeed" | "stage">,
  log: Logger,
): Promise<void> {
  const seed = state.identitySeed;
  const spec = state.stage;
  if (!state.installPending || seed?.kind !== "cidata" || !spec || spec.kind === "builtin") return;
  const key = `${seed.sha256}-${SEED_OBJECT_NAME}`;
  try {
    const stage = await openStage(spec, log);
    stage.adopt(key);
    await stage.close();
    log.info(`identity: removed ${key} a stopped install left on ${stage.label}`);
  } catch (err) {
    log.info(
      `identity: could not remove ${key} a stopped install may have left on the image stage (${redact(err instanceof Error ? err.message : String(err))}); remove it by hand`,
    );
  }
}
