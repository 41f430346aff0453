import { describe, expect, it } from "vitest";
import { loadCaptureModel } from "../../simulator/bmc/capture/model";
import { MEDIA_OWNED } from "../../simulator/bmc/capture/virtual-media";
import { CAPTURE_BMC_PROFILES } from "../../simulator/contracts";
import { invalidResources, keepAliveGetter, useSchemaLab } from "./capture-walk";
import { FakeBackend, preinstalled } from "./fake-backend";
import { sharedAvailable } from "./harness";

const haveShared = sharedAvailable();

type Json = Record<string, unknown>;

/** Fields the state machine owns, by resource type (everything else must be served exactly as captured). */
const OWNED: Readonly<Record<string, readonly string[]>> = {
  ComputerSystem: ["PowerState", "BootProgress", "LastResetTime", "AssetTag", "Boot"],
  VirtualMedia: MEDIA_OWNED,
  SessionCollection: ["Members", "Members@odata.count"],
  TaskCollection: ["Members", "Members@odata.count"],
};

function withoutOwned(body: Json, capturedEtag: boolean): Json {
  const out = structuredClone(body);
  const type = typeof out["@odata.type"] === "string" ? out["@odata.type"] : "";
  const name = /^#([A-Za-z]+)\./.exec(type)?.[1] ?? "";
  for (const k of OWNED[name] ?? []) delete out[k];
  if (!capturedEtag) delete out["@odata.etag"];
  return out;
}

describe.skipIf(!haveShared)("capture-backed BMC profiles serve their captures", () => {
  const env = useSchemaLab();

  for (const profile of CAPTURE_BMC_PROFILES) {
    it(`${profile}: every captured resource is served as captured, and validates no worse`, async () => {
      const lab = env.lab();
      const schemas = env.schemas();
      const model = loadCaptureModel(profile);
      const { bmc } = await lab.bmc(profile, { backend: new FakeBackend(`cap-${profile}`, preinstalled()) });
      const http = keepAliveGetter(bmc, lab.pki.caPem);
      const capturedJson = new Map<string, unknown>();
      const servedJson = new Map<string, unknown>();
      const mismatches: string[] = [];
      try {
        for (const [path, res] of model.tree.resources) {
          const got = await http.get(path);
          if (res.kind !== "json") {
            if (got.status !== (res.kind === "raw" ? res.status : 200) || got.text !== res.text)
              mismatches.push(`${path}: ${got.status} ${got.text.slice(0, 60)}`);
            if (res.kind === "xml") expect(got.type).toContain("application/xml");
            continue;
          }
          if (got.status !== 200) {
            mismatches.push(`${path}: HTTP ${got.status}`);
            continue;
          }
          const body = JSON.parse(got.text) as Json;
          const etag = typeof res.body["@odata.etag"] === "string";
          try {
            expect(withoutOwned(body, etag)).toEqual(withoutOwned(res.body as Json, etag));
          } catch {
            mismatches.push(`${path}: body differs`);
          }
          capturedJson.set(path, res.body);
          servedJson.set(path, body);
        }
      } finally {
        http.close();
      }
      expect(mismatches).toEqual([]);
      expect(servedJson.size).toBeGreaterThan(80);
      const before = invalidResources(schemas, capturedJson);
      const after = invalidResources(schemas, servedJson);
      console.log(
        `${profile}: ${model.tree.resources.size} resources served; schema-invalid: capture ${before.length}, served ${after.length}`,
      );
      expect(after.length).toBeLessThanOrEqual(before.length);
      expect(after.filter((a) => !before.includes(a))).toEqual([]);
      // Powered on and booted, the resources the state machine owns still validate no worse.
      await bmc.powerOnAndWait();
      const owned = [model.dpu.path, ...(model.bootSlot ? [model.bootSlot.path] : [])];
      const live = new Map<string, unknown>();
      const http2 = keepAliveGetter(bmc, lab.pki.caPem);
      try {
        for (const p of owned) live.set(p, JSON.parse((await http2.get(p)).text));
      } finally {
        http2.close();
      }
      const liveBad = invalidResources(schemas, live);
      expect(liveBad.filter((a) => !before.includes(a))).toEqual([]);
    }, 120_000);
  }
});
