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
});
