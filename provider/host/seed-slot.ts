import type { VirtualMediaSlot } from "../redfish/discovery";

/** Media types a NoCloud seed volume can be inserted as (an ISO image). */
const SEED_MEDIA = ["CD", "DVD", "USBStick"];

/**
 * The virtual-media slot for the NoCloud seed: a second slot, other than `installSlot` (which carries the
 * install image), that can be driven (InsertMedia or PATCH) and takes a CD/DVD/USB image. Returns the slot, or
 * the reason there is none (the BMC has a single usable slot).
 */
export function chooseSeedSlot(
  slots: readonly VirtualMediaSlot[],
  installSlot: VirtualMediaSlot | undefined,
): { slot: VirtualMediaSlot } | { refusal: string } {
  const usable = slots.filter(
    (s) =>
      s.path !== installSlot?.path &&
      (s.insertTarget !== undefined || s.patchable) &&
      (s.mediaTypes.length === 0 || s.mediaTypes.some((t) => SEED_MEDIA.includes(t))),
  );
  const slot =
    usable.find((s) => s.mediaTypes.includes("CD")) ??
    usable.find((s) => s.mediaTypes.includes("USBStick")) ??
    usable[0];
  if (slot) return { slot };
  const others = slots.filter((s) => s.path !== installSlot?.path);
  const seen =
    others.length === 0
      ? "no other slot"
      : `other slots: ${others.map((s) => `${s.id} (${s.mediaTypes.join("/") || "no MediaTypes"}${s.insertTarget || s.patchable ? "" : ", not driveable"})`).join(", ")}`;
  return {
    refusal: `the NoCloud seed needs a second virtual-media slot that takes a CD or USB image, but this BMC has only ${installSlot ? `${installSlot.id} for the install image` : "no usable slot"} (${seen}); deliver the identity with image.method simpleUpdate (bf.cfg) where the BMC offers it, or bake it into the image`,
  };
}
