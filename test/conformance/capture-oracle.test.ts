import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CAPTURE_BMC_PROFILES } from "../../simulator/contracts";
import { unavailable } from "../capabilities";
import { SHARED_ROOT } from "../shared-material";
import { EXPECTED } from "./expected";
import { NO_METHOD, OK, REFUSED } from "./matrix";

/**
 * The conformance matrix's expectations for the capture-backed profiles, checked against the captured trees
 * themselves (real BMC output this project did not write, read here as plain files): a method is expected to be
 * refused exactly where the capture lacks what it needs, and ready.ssh exactly where no system shows BootProgress.
 */
const reason = unavailable("conformance expectations against the captures", "mockups");

type Json = Record<string, unknown>;

/** The directory of a capture's `/redfish/v1` (short layout: the capture's root; tall: `redfish/v1` below it). */
function v1Of(capture: string): string {
  const dir = join(SHARED_ROOT, "redfish", "mockups", capture);
  return existsSync(join(dir, "redfish", "v1")) ? join(dir, "redfish", "v1") : dir;
}

function read(v1: string, ...path: string[]): Json | undefined {
  const f = join(v1, ...path, "index.json");
  return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as Json) : undefined;
}

function members(v1: string, collection: string): Json[] {
  const dir = join(v1, collection);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => read(v1, collection, e.name))
    .filter((j): j is Json => j !== undefined);
}

/** Which capture each capture-backed profile serves (the directory names under shared/redfish/mockups). */
const CAPTURES: Readonly<Record<(typeof CAPTURE_BMC_PROFILES)[number], string>> = {
  "capture-rackmount1": "public-rackmount1",
  "capture-smartnic": "public-smartnic",
  "capture-tower": "public-tower",
  "capture-bladed": "public-bladed",
  "capture-bluefield": "nvidia-bluefield-bmc",
};

describe.skipIf(reason !== undefined)("conformance expectations follow from the captured trees", () => {
  for (const profile of CAPTURE_BMC_PROFILES) {
    it(`${profile}: refusals where the capture lacks what a method needs, ready.ssh where it shows no BootProgress`, () => {
      const v1 = v1Of(CAPTURES[profile]);
      const systems = members(v1, "Systems");
      const managers = members(v1, "Managers");
      expect(systems.length).toBeGreaterThan(0);
      const want = EXPECTED[profile];

      const hasMedia = [...systems, ...managers].some((r) => r.VirtualMedia !== undefined);
      if (!hasMedia) expect(want.virtualMedia).toBe(REFUSED.noVm);
      else expect(want.virtualMedia).toBe(OK);

      const uefi = systems.some((s) =>
        JSON.stringify(
          (s.Boot as Json | undefined)?.["BootSourceOverrideTarget@Redfish.AllowableValues"] ?? [],
        ).includes("UefiHttp"),
      );
      if (!uefi) expect(want.uefiHttp).toBe(REFUSED.noUefiTarget);

      const update = read(v1, "UpdateService");
      const su = (update?.Actions as Json | undefined)?.["#UpdateService.SimpleUpdate"] as Json | undefined;
      if (!su) expect(want.simpleUpdate).toBe(REFUSED.noSimpleUpdate);
      else {
        // Whatever the protocols (SCP-only BlueField BMCs included: DpuHost pushes over SCP after the documented
        // key exchange), an OS image needs a firmware inventory item that is the OS.
        const inventory = members(v1, join("UpdateService", "FirmwareInventory")).map((m) => String(m.Id));
        const osItem = inventory.some((id) => /(^|_)OS($|_)/i.test(id));
        expect(want.simpleUpdate).toBe(osItem ? OK : REFUSED.noOsItem);
      }

      const methods = [want.virtualMedia, want.uefiHttp, want.simpleUpdate];
      const progress = systems.some((s) => s.BootProgress !== undefined);
      if (methods.every((m) => m !== OK && m !== REFUSED.scpOnly)) expect(want.noSsh).toBe(NO_METHOD);
      else if (!progress) expect(want.noSsh).toBe(REFUSED.ssh);
      else expect([OK, REFUSED.scpOnly]).toContain(want.noSsh);
    });
  }
});
