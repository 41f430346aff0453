import { describe, expect, it } from "vitest";
import { chooseSeedSlot } from "../../provider/host/seed-slot";
import type { VirtualMediaSlot } from "../../provider/redfish/discovery";

const slot = (id: string, mediaTypes: string[], over: Partial<VirtualMediaSlot> = {}): VirtualMediaSlot => ({
  path: `/redfish/v1/Systems/437XR1138R2/VirtualMedia/${id}`,
  id,
  mediaTypes,
  under: "system",
  patchable: true,
  inserted: false,
  ...over,
});

describe("the virtual-media slot of the NoCloud seed", () => {
  // DMTF public-rackmount1 (shared/redfish/mockups): CD1 [CD, DVD] and Floppy1 [Floppy, USBStick], PATCH only.
  const cd1 = slot("CD1", ["CD", "DVD"]);
  const floppy1 = slot("Floppy1", ["Floppy", "USBStick"]);

  it("takes the second slot (USB stick) when the CD slot carries the install image", () => {
    expect(chooseSeedSlot([cd1, floppy1], cd1)).toEqual({ slot: floppy1 });
  });

  it("prefers a second CD slot", () => {
    const cd2 = slot("CD2", ["CD"], {
      insertTarget: "/x/Actions/VirtualMedia.InsertMedia",
      patchable: false,
    });
    expect(chooseSeedSlot([cd1, floppy1, cd2], cd1)).toEqual({ slot: cd2 });
  });

  it("refuses with the reason when the BMC has one usable slot", () => {
    const floppyOnly = slot("Floppy1", ["Floppy"]);
    const dead = slot("CD2", ["CD"], { patchable: false });
    for (const slots of [[cd1], [cd1, floppyOnly], [cd1, dead]]) {
      const r = chooseSeedSlot(slots, cd1);
      expect(r).toHaveProperty("refusal");
      expect((r as { refusal: string }).refusal).toMatch(
        /needs a second virtual-media slot that takes a CD or USB image, but this BMC has only CD1 for the install image/,
      );
    }
  });

  it("never chooses a slot holding someone else's media: another free slot, a DpuHost seed, else a refusal naming it", () => {
    const cd2 = slot("CD2", ["CD"]);
    const foreign = { inserted: true, image: "https://op:op-secret@media.example/rescue.iso" };
    const heldCd2 = slot("CD2", ["CD"], foreign);
    // A free USB slot is taken rather than the CD slot someone else uses.
    expect(chooseSeedSlot([cd1, heldCd2, floppy1], cd1)).toEqual({ slot: floppy1 });
    // A DpuHost seed (content addressed `<sha256>-cidata.iso`) may be replaced: it is ours.
    const seeded = slot("CD2", ["CD"], {
      inserted: true,
      image: `http://10.0.0.1:8080/${"ab".repeat(32)}-cidata.iso`,
    });
    expect(chooseSeedSlot([cd1, seeded], cd1)).toEqual({ slot: seeded });
    // Only foreign media left: refused, naming the slot, the BMC and the image without its credentials.
    const r = chooseSeedSlot([cd1, heldCd2], cd1, "https://bmc.example");
    const refusal = (r as { refusal: string }).refusal;
    expect(refusal).toMatch(/on BMC https:\/\/bmc\.example/);
    expect(refusal).toMatch(
      /virtual media CD2 \(\/redfish\/v1\/Systems\/437XR1138R2\/VirtualMedia\/CD2\) holds https:\/\/media\.example\/rescue\.iso/,
    );
    expect(refusal).toMatch(/eject it yourself/);
    expect(refusal).not.toContain("op-secret");
    // A name that only looks like a seed is not one.
    const lookalike = slot("CD2", ["CD"], { inserted: true, image: "http://x/my-cidata.iso" });
    expect(chooseSeedSlot([cd1, lookalike], cd1)).toHaveProperty("refusal");
    expect(chooseSeedSlot([cd1, cd2], cd1)).toEqual({ slot: cd2 });
  });
});
