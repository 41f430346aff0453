import { publicUrl } from "../log";
import type { VirtualMediaSlot } from "../redfish/discovery";
import { isSeedVolume } from "./seed-cleanup";

/** Media types a NoCloud seed volume can be inserted as (an ISO image). */
const SEED_MEDIA = ["CD", "DVD", "USBStick"];

/**
 * The virtual-media slot for the NoCloud seed: a second slot, other than `installSlot` (which carries the
 * install image), that can be driven (InsertMedia or PATCH), takes a CD/DVD/USB image, and is empty or holds a
 * DpuHost seed (media put in by anyone else are never ejected). Returns the slot, or the reason there is none
 * (the BMC has a single usable slot, or every other one holds someone's media: `bmc` names the BMC then).
 */
export function chooseSeedSlot(
  slots: readonly VirtualMediaSlot[],
  installSlot: VirtualMediaSlot | undefined,
  bmc = "this BMC",
): { slot: VirtualMediaSlot } | { refusal: string } {
  const usable = slots.filter(
    (s) =>
      s.path !== installSlot?.path &&
      (s.insertTarget !== undefined || s.patchable) &&
      (s.mediaTypes.length === 0 || s.mediaTypes.some((t) => SEED_MEDIA.includes(t))),
  );
  const free = usable.filter((s) => seedSlotHolds(s) === undefined);
  const slot =
    free.find((s) => s.mediaTypes.includes("CD")) ??
    free.find((s) => s.mediaTypes.includes("USBStick")) ??
    free[0];
  if (slot) return { slot };
  if (usable.length > 0) return { refusal: foreignMediaRefusal(usable, bmc) };
  const others = slots.filter((s) => s.path !== installSlot?.path);
  const seen =
    others.length === 0
      ? "no other slot"
      : `other slots: ${others.map((s) => `${s.id} (${s.mediaTypes.join("/") || "no MediaTypes"}${s.insertTarget || s.patchable ? "" : ", not driveable"})`).join(", ")}`;
  return {
    refusal: `the NoCloud seed needs a second virtual-media slot that takes a CD or USB image, but this BMC has only ${installSlot ? `${installSlot.id} for the install image` : "no usable slot"} (${seen}); deliver the identity with image.method simpleUpdate (bf.cfg) where the BMC offers it, or bake it into the image`,
  };
}

/** What `slot` holds that is not a DpuHost seed (its public URL, or "unnamed media"), or undefined. */
export function seedSlotHolds(slot: Pick<VirtualMediaSlot, "inserted" | "image">): string | undefined {
  if (!slot.inserted || isSeedVolume(slot.image)) return undefined;
  return slot.image ? publicUrl(slot.image) : "unnamed media";
}

/** The refusal when every slot the seed could use holds media someone else put in. */
export function foreignMediaRefusal(
  held: readonly Pick<VirtualMediaSlot, "id" | "path" | "inserted" | "image">[],
  bmc: string,
): string {
  const what = held.map((s) => `virtual media ${s.id} (${s.path}) holds ${seedSlotHolds(s) ?? "nothing"}`);
  return `the NoCloud seed needs a second virtual-media slot on BMC ${bmc}, but ${what.join("; ")}, which DpuHost did not insert and does not eject; eject it yourself when it is no longer needed (VirtualMedia.EjectMedia on that slot) and run \`pulumi up\` again, or deliver the identity with image.method simpleUpdate (bf.cfg) where the BMC offers it, or bake it into the image`;
}
