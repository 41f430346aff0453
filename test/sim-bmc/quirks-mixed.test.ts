import { describe, expect, it } from "vitest";
import { mixedProfiles } from "../../simulator/bmc/capture/mixed";
import { ALL_BMC_PROFILES, BMC_PROFILES, QUIRK_BMC_PROFILES } from "../../simulator/contracts";
import { sharedAvailable } from "./harness";

describe("mixed cycles through every profile whose material is available", () => {
  it("without the captures: the hand-written profiles, in their old order, and a note naming what was left out", () => {
    const none = mixedProfiles(undefined, (c) => {
      throw new Error(`capture '${c}' not found: looked in /nowhere/${c}`);
    });
    expect(none.profiles).toEqual([...BMC_PROFILES]);
    expect(none.note).toMatch(/left out \(captures not found\): capture-rackmount1, .*quirk-bare/);
    expect(none.note).toContain("not found: looked in /nowhere/");
  });

  it("with one capture missing: only the profiles built on it are left out", () => {
    const some = mixedProfiles(undefined, (c) => {
      if (c === "nvidia-bluefield-bmc") throw new Error("missing");
      return `/x/${c}`;
    });
    expect(some.profiles).not.toContain("capture-bluefield");
    expect(some.profiles).not.toContain("quirk-bluefield-old");
    expect(some.profiles).toContain("quirk-idrac");
    expect(some.note).toMatch(/left out .*capture-bluefield, quirk-bluefield-old, quirk-bluefield-new/);
  });

  it.skipIf(!sharedAvailable())(
    "with the shared captures: every profile, hand-written first (dpu-0 generic … dpu-3 intel-ipu)",
    () => {
      const all = mixedProfiles();
      expect(all.profiles).toEqual([...ALL_BMC_PROFILES]);
      expect(all.profiles.slice(0, 4)).toEqual([...BMC_PROFILES]);
      for (const q of QUIRK_BMC_PROFILES) expect(all.profiles).toContain(q);
      expect(all.note).toBeUndefined();
    },
  );
});
