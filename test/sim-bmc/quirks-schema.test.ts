import { describe, expect, it } from "vitest";
import { loadCaptureModel } from "../../simulator/bmc/capture/model";
import { QUIRK_PROFILES } from "../../simulator/bmc/capture/quirks";
import { QUIRK_BMC_PROFILES } from "../../simulator/contracts";
import { invalidResources, keepAliveGetter, useSchemaLab } from "./capture-walk";
import { FakeBackend, preinstalled } from "./fake-backend";
import { sharedAvailable } from "./harness";

const haveShared = sharedAvailable();
/**
 * Resources a quirk makes schema-invalid on purpose, because the vendor behaviour it reproduces is: ServiceRoot
 * requires `Links.Sessions`, and an emulator without a SessionService cannot link one.
 */
const EXPECTED_INVALID: Readonly<Partial<Record<string, readonly string[]>>> = {
  "quirk-emulator": ["/redfish/v1: invalid (ServiceRoot.v1_20_0.json)"],
};

/** `@odata.id` links of a body that point outside `paths` (dangling). */
function dangling(body: unknown, paths: ReadonlySet<string>, out: Set<string>): void {
  if (Array.isArray(body)) for (const v of body) dangling(v, paths, out);
  else if (body && typeof body === "object") {
    for (const [k, v] of Object.entries(body)) {
      if (k === "@odata.id" && typeof v === "string" && !v.includes("#")) {
        const p = v.replace(/\/+$/, "");
        if (!paths.has(p)) out.add(p);
      } else dangling(v, paths, out);
    }
  }
}

describe.skipIf(!haveShared)("quirk profiles validate no worse than the capture they are built on", () => {
  const env = useSchemaLab();

  for (const profile of QUIRK_BMC_PROFILES) {
    it(`${profile}: every resource served, schema-invalid and dangling links no more than its base`, async () => {
      const lab = env.lab();
      const schemas = env.schemas();
      const base = loadCaptureModel(QUIRK_PROFILES[profile].base);
      const model = loadCaptureModel(profile);
      const { bmc } = await lab.bmc(profile, { backend: new FakeBackend(`qs-${profile}`, preinstalled()) });
      await bmc.powerOnAndWait();
      const http = keepAliveGetter(bmc, lab.pki.caPem);
      const served = new Map<string, unknown>();
      const failed: string[] = [];
      try {
        for (const [path, res] of model.tree.resources) {
          if (res.kind !== "json") continue;
          const got = await http.get(path);
          if (got.status !== 200) failed.push(`${path}: HTTP ${got.status}`);
          else served.set(path, got.json);
        }
      } finally {
        http.close();
      }
      expect(failed).toEqual([]);
      const baseJson = new Map<string, unknown>();
      for (const [p, r] of base.tree.resources) if (r.kind === "json") baseJson.set(p, r.body);
      const before = invalidResources(schemas, baseJson);
      const after = invalidResources(schemas, served);
      const baseDangling = new Set<string>();
      for (const b of baseJson.values()) dangling(b, new Set(base.tree.resources.keys()), baseDangling);
      const quirkDangling = new Set<string>();
      for (const b of served.values()) dangling(b, new Set(model.tree.resources.keys()), quirkDangling);
      console.log(
        `${profile}: ${served.size} resources; schema-invalid: base ${before.length}, quirk ${after.length}; dangling links: base ${baseDangling.size}, quirk ${quirkDangling.size}`,
      );
      const expected = EXPECTED_INVALID[profile] ?? [];
      for (const e of expected) expect(after).toContain(e);
      expect(after.length - expected.length, after.join("\n")).toBeLessThanOrEqual(before.length);
      expect(quirkDangling.size, [...quirkDangling].join("\n")).toBeLessThanOrEqual(baseDangling.size);
    }, 120_000);
  }
});
